"""A benchmark workload on which PostgreSQL's plans go wrong, for plan steering.

Correlated columns, skewed join keys and correlated ranges across joins (`dataset`) break the
planner's independence and uniformity assumptions; sixteen query templates built from a shared
pool of predicate blocks (`templates`) turn those misestimates into slow plans that some arm of
`microlora.arms()` fixes. `python -m skew` runs the steps; bench/skew/run.sh runs them against a
throw-away cluster.

Why a sibling of bench/tpch rather than part of it: the workload has its own data, queries,
goals, report and results folder, so it gets its own directory, script and tests. What it shares
with TPC-H, the plan-steering harness (arms matrix, online passes, their summaries), the
connection helper and the markdown tables, it imports from the `tpch` package
(`tpch.steering`, `tpch.workload`, `tpch.analysis`) instead of copying; run.sh and the tests put
bench/tpch on PYTHONPATH. Both use the Python environment of `scripts/setup.sh tpch`.
"""
