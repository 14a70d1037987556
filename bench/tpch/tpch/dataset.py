"""TPC-H data: generate it with tpchgen-cli and load it into PostgreSQL.

    generate(scale, out_dir)   writes the 8 tables as out_dir/<table>.tbl (pipe-delimited)
    load(conn, data_dir)       (re)creates the 8 tables, COPYs the files in, adds keys and
                               indexes, VACUUM ANALYZEs; returns {table: row count}

Schema: the specification's column types (clause 1.4.1) as the reference dbgen DDL spells them
for SQL: identifier -> integer, decimal -> numeric(15,2), fixed text N -> char(N), variable text
N -> varchar(N), date -> date. (Integer keys hold every key up to scale factor ~300.)

Keys and indexes, added after the data so each is built once:
  * the primary key of every table (clause 1.4.2): region(r_regionkey), nation(n_nationkey),
    part(p_partkey), supplier(s_suppkey), partsupp(ps_partkey, ps_suppkey),
    customer(c_custkey), orders(o_orderkey), lineitem(l_orderkey, l_linenumber). The
    partsupp and lineitem keys also serve lookups by ps_partkey and by l_orderkey alone
    (Q4, Q21's EXISTS, Q18), so those get no index of their own;
  * an index on each other foreign-key column (clause 1.4.2's relationships):
    lineitem(l_partkey, l_suppkey) (the partsupp reference; Q17 and Q20's correlated
    subqueries look lineitem up by part, or part and supplier), lineitem(l_suppkey),
    orders(o_custkey), partsupp(ps_suppkey), customer(c_nationkey), supplier(s_nationkey),
    nation(n_regionkey).
No FOREIGN KEY constraints are declared (they would slow the load and the specification does
not require them; note that PostgreSQL does use declared foreign keys in join estimates), and
no index on date columns.

Progress and timings go to stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Load order: referenced tables first (irrelevant without FK constraints, but natural).
_TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders",
           "lineitem")

_COLUMNS = {
    "region": """
        r_regionkey integer not null,
        r_name char(25) not null,
        r_comment varchar(152) not null""",
    "nation": """
        n_nationkey integer not null,
        n_name char(25) not null,
        n_regionkey integer not null,
        n_comment varchar(152) not null""",
    "part": """
        p_partkey integer not null,
        p_name varchar(55) not null,
        p_mfgr char(25) not null,
        p_brand char(10) not null,
        p_type varchar(25) not null,
        p_size integer not null,
        p_container char(10) not null,
        p_retailprice numeric(15,2) not null,
        p_comment varchar(23) not null""",
    "supplier": """
        s_suppkey integer not null,
        s_name char(25) not null,
        s_address varchar(40) not null,
        s_nationkey integer not null,
        s_phone char(15) not null,
        s_acctbal numeric(15,2) not null,
        s_comment varchar(101) not null""",
    "partsupp": """
        ps_partkey integer not null,
        ps_suppkey integer not null,
        ps_availqty integer not null,
        ps_supplycost numeric(15,2) not null,
        ps_comment varchar(199) not null""",
    "customer": """
        c_custkey integer not null,
        c_name varchar(25) not null,
        c_address varchar(40) not null,
        c_nationkey integer not null,
        c_phone char(15) not null,
        c_acctbal numeric(15,2) not null,
        c_mktsegment char(10) not null,
        c_comment varchar(117) not null""",
    "orders": """
        o_orderkey integer not null,
        o_custkey integer not null,
        o_orderstatus char(1) not null,
        o_totalprice numeric(15,2) not null,
        o_orderdate date not null,
        o_orderpriority char(15) not null,
        o_clerk char(15) not null,
        o_shippriority integer not null,
        o_comment varchar(79) not null""",
    "lineitem": """
        l_orderkey integer not null,
        l_partkey integer not null,
        l_suppkey integer not null,
        l_linenumber integer not null,
        l_quantity numeric(15,2) not null,
        l_extendedprice numeric(15,2) not null,
        l_discount numeric(15,2) not null,
        l_tax numeric(15,2) not null,
        l_returnflag char(1) not null,
        l_linestatus char(1) not null,
        l_shipdate date not null,
        l_commitdate date not null,
        l_receiptdate date not null,
        l_shipinstruct char(25) not null,
        l_shipmode char(10) not null,
        l_comment varchar(44) not null""",
}

_PRIMARY_KEYS = {
    "region": ("r_regionkey",),
    "nation": ("n_nationkey",),
    "part": ("p_partkey",),
    "supplier": ("s_suppkey",),
    "partsupp": ("ps_partkey", "ps_suppkey"),
    "customer": ("c_custkey",),
    "orders": ("o_orderkey",),
    "lineitem": ("l_orderkey", "l_linenumber"),
}

# (table, columns) of the secondary indexes; see the module docstring.
INDEXES = (
    ("lineitem", ("l_partkey", "l_suppkey")),
    ("lineitem", ("l_suppkey",)),
    ("orders", ("o_custkey",)),
    ("partsupp", ("ps_suppkey",)),
    ("customer", ("c_nationkey",)),
    ("supplier", ("s_nationkey",)),
    ("nation", ("n_regionkey",)),
)

# COPY is fed blocks of whole lines of about this size.
_BLOCK = 1 << 20


def table_names() -> tuple[str, ...]:
    """The 8 TPC-H tables, in load order."""
    return _TABLES


def _log(message: str) -> None:
    print(f"[tpch] {message}", file=sys.stderr, flush=True)


def _tpchgen() -> str:
    beside = Path(sys.executable).parent / "tpchgen-cli"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("tpchgen-cli")
    if found is None:
        raise FileNotFoundError(
            f"tpchgen-cli is neither at {beside} nor on PATH "
            "(pip install -r bench/tpch/requirements.txt)")
    return found


def generate(scale: float, out_dir: Path) -> dict[str, Path]:
    """Writes the 8 tables at scale factor `scale` to out_dir/<table>.tbl with tpchgen-cli,
    replacing any files already there. Returns {table: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [_tpchgen(), "tbl", "--scale-factor", format(scale, "g"),
           "--output-dir", str(out_dir), "--overwrite", "--no-progress", "--quiet"]
    _log(f"generating scale {scale:g} into {out_dir}")
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    paths = {}
    for table in _TABLES:
        path = out_dir / f"{table}.tbl"
        if not path.is_file():
            raise FileNotFoundError(f"tpchgen-cli did not write {path}")
        paths[table] = path
    size = sum(p.stat().st_size for p in paths.values())
    _log(f"generated {size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")
    return paths


def _blocks(path: Path):
    """The file as blocks of whole lines, for COPY's text format.

    dbgen's TBL format (tpchgen-cli's too) ends every line with the delimiter: "1|AFRICA|...|".
    COPY would read that as one column too many, so each line's last '|' is removed. Whether a
    file has it is decided from its first line, and every line is checked to agree. Backslash,
    COPY text's escape character, never occurs in TPC-H data; it is escaped if it does."""
    with open(path, "rb") as f:
        trailing = None
        while True:
            block = f.read(_BLOCK)
            if not block:
                return
            block += f.readline()  # complete the block's last line
            if not block.endswith(b"\n"):
                block += b"\n"  # the file's last line, without its newline
            if b"\r" in block:
                block = block.replace(b"\r\n", b"\n")
            if trailing is None:
                trailing = block[:block.index(b"\n")].endswith(b"|")
            lines = block.count(b"\n")
            ends = block.count(b"|\n")
            if ends != (lines if trailing else 0):
                raise ValueError(f"{path}: lines disagree on whether they end with '|'")
            if trailing:
                block = block.replace(b"|\n", b"\n")
            if b"\\" in block:
                block = block.replace(b"\\", b"\\\\")
            yield block


def load(conn, data_dir: Path, timings: dict | None = None) -> dict[str, int]:
    """Drops and recreates the 8 tables, loads data_dir/<table>.tbl into each with COPY FROM
    STDIN, adds the primary keys and INDEXES, and runs VACUUM ANALYZE. `conn` is a psycopg 3
    connection (switched to autocommit if it is not). Returns {table: rows loaded}.

    If `timings` is given it receives the seconds spent: 'copy', 'index' (keys and indexes),
    'analyze', and 'copy:<table>' for each table."""
    data_dir = Path(data_dir)
    paths = {t: data_dir / f"{t}.tbl" for t in _TABLES}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"missing data files: {', '.join(missing)}")
    if not conn.autocommit:
        conn.autocommit = True
    timings = {} if timings is None else timings
    counts: dict[str, int] = {}

    with conn.cursor() as cur:
        # A loading session: room for the index builds (sorts of up to ~6M keys per SF).
        cur.execute("set maintenance_work_mem = '512MB'")
        for table in reversed(_TABLES):
            cur.execute(f"drop table if exists {table}")
        for table in _TABLES:
            cur.execute(f"create table {table} ({_COLUMNS[table]}\n)")

        start = time.perf_counter()
        for table in _TABLES:
            t0 = time.perf_counter()
            with cur.copy(f"copy {table} from stdin (format text, delimiter '|')") as copy:
                for block in _blocks(paths[table]):
                    copy.write(block)
            counts[table] = cur.rowcount
            if counts[table] < 0:  # no count from COPY's command tag
                cur.execute(f"select count(*) from {table}")
                counts[table] = cur.fetchone()[0]
            timings[f"copy:{table}"] = time.perf_counter() - t0
            _log(f"copied {counts[table]:>10} rows into {table:<8} "
                 f"in {timings[f'copy:{table}']:.1f} s")
        timings["copy"] = time.perf_counter() - start
        _log(f"COPY done in {timings['copy']:.1f} s")

        start = time.perf_counter()
        for table in _TABLES:
            t0 = time.perf_counter()
            cols = ", ".join(_PRIMARY_KEYS[table])
            cur.execute(f"alter table {table} add constraint {table}_pkey primary key ({cols})")
            _log(f"primary key {table}({cols}) in {time.perf_counter() - t0:.1f} s")
        for table, columns in INDEXES:
            t0 = time.perf_counter()
            name = f"{table}_{'_'.join(columns)}_idx"
            cols = ", ".join(columns)
            cur.execute(f"create index {name} on {table} ({cols})")
            _log(f"index {table}({cols}) in {time.perf_counter() - t0:.1f} s")
        timings["index"] = time.perf_counter() - start
        _log(f"keys and indexes done in {timings['index']:.1f} s")

        start = time.perf_counter()
        cur.execute(f"vacuum analyze {', '.join(_TABLES)}")
        timings["analyze"] = time.perf_counter() - start
        _log(f"VACUUM ANALYZE done in {timings['analyze']:.1f} s")
    return counts
