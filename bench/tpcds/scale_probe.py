"""How long the default arm takes per query at a scale: what chose the scale of the committed
run (results/scale/). Loads the data at the scale into a running server, then runs each ported
query once, microlora off, with a 30 s statement timeout, and writes the seconds as JSON after
each query (so that a probe stopped early keeps what it measured).

    PYTHONPATH=bench/tpch:bench/tpcds target/tpch-venv/bin/python bench/tpcds/scale_probe.py HOST SCALE OUT.json
"""

import json
import sys
import time

import psycopg
from tpch import workload

from tpcds import dataset, queries

host, scale, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with workload.connect(host) as conn:
    loaded = dataset.load(conn, scale)
print("load", loaded["timings"], flush=True)
ported = {queries.name(n): queries.port(s) for n, s in sorted(dataset.duckdb_queries().items())}
measured = {}
with workload.connect(host) as conn:
    conn.execute("SET microlora.enabled = off")
    conn.execute("SET statement_timeout = '30s'")
    for name, sql in ported.items():
        started = time.perf_counter()
        try:
            rows, error = len(conn.execute(sql).fetchall()), None
        except psycopg.Error as failure:
            rows, error = 0, f"{type(failure).__name__}: {str(failure).strip().splitlines()[0]}"
        measured[name] = {"s": time.perf_counter() - started, "rows": rows, "error": error}
        print(name, f"{measured[name]['s']:.2f}", rows, error or "", flush=True)
        with open(out, "w") as f:
            json.dump({"load": loaded, "q": measured}, f, indent=1)
