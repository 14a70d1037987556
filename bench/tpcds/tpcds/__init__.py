"""TPC-DS as a benchmark of plan steering: a workload the steering code was never tuned on.

DuckDB's TPC-DS extension generates the data (`dataset`) and gives the 99 queries in DuckDB's
dialect; `queries` ports them to PostgreSQL mechanically and derives instances by shifting a
template's years within the data's. `python -m tpcds` runs the steps; bench/tpcds/run.sh runs
them against a throw-away cluster. Like bench/skew, it imports the plan-steering harness, the
connection helper and the markdown tables from bench/tpch's `tpch` package (run.sh and the tests
put bench/tpch on PYTHONPATH).
"""
