"""Does the port keep each query's meaning? Each query's rows on PostgreSQL (ported text) against
DuckDB's (its own text), on the same generated data: a check of `queries.port`, not part of the
benchmark. Values are compared loosely: numbers of any type as floats to 5 significant digits
(DuckDB divides decimals into doubles, PostgreSQL into numerics of more digits), strings without
trailing blanks, NULL as NULL; rows as a sorted multiset, since a LIMIT over tied sort keys may keep
different rows in either system.

    PYTHONPATH=bench/tpch:bench/tpcds target/tpch-venv/bin/python -m tpcds.crosscheck HOST SCALE OUT.json

HOST must be a server with microlora's database empty of TPC-DS tables or holding them at SCALE:
the data is (re)loaded at SCALE first.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys

import psycopg
from tpch import workload

from . import dataset, queries


def canonical(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return f"{float(value):.5g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).rstrip()


def rows_key(rows) -> list[str]:
    return sorted("|".join(canonical(v) for v in row) for row in rows)


def compare(pg_rows, duck_rows) -> str:
    """'same', or how the results differ."""
    a, b = rows_key(pg_rows), rows_key(duck_rows)
    if a == b:
        return "same"
    if len(a) != len(b):
        return f"rows differ: PostgreSQL {len(a)}, DuckDB {len(b)}"
    return f"{sum(x != y for x, y in zip(a, b))} of {len(a)} rows differ"


def main(host: str, scale: float, out: str) -> None:
    with workload.connect(host) as conn:
        dataset.load(conn, scale)
    duck = dataset.duckdb_connection()
    duck.execute(f"CALL dsdgen(sf = {float(scale)})")
    original = {queries.name(n): sql for n, sql in sorted(dataset.duckdb_queries().items())}
    results, rows = {}, {}
    with workload.connect(host) as conn:
        conn.execute("SET microlora.enabled = off")
        conn.execute("SET statement_timeout = '60s'")
        for name, sql in original.items():
            try:
                pg_rows = conn.execute(queries.port(sql)).fetchall()
            except psycopg.Error as failure:
                results[name] = f"PostgreSQL failed: {str(failure).strip().splitlines()[0]}"
                continue
            results[name] = compare(pg_rows, duck.execute(sql).fetchall())
            rows[name] = len(pg_rows)
            print(name, results[name], f"({rows[name]} rows on PostgreSQL)", flush=True)
    same = sum(1 for r in results.values() if r == "same")
    summary = {"scale": scale, "same": same, "queries": len(results),
               "same_and_not_empty": sum(1 for n, r in results.items() if r == "same" and rows.get(n)),
               "differing": {n: r for n, r in results.items() if r != "same"}, "rows": rows}
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    print(f"{same} of {len(results)} queries return the same rows on PostgreSQL as on DuckDB "
          f"({summary['same_and_not_empty']} of them some rows)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3])
