"""The 99 TPC-DS queries, from DuckDB's dialect to PostgreSQL's, and their instances.

`port` rewrites DuckDB's text of a query (`tpcds_queries()`) by fixed rules, each a function
with tests (tests/test_queries.py), applied in this order:

  1. `strip_comments`: `--` comments go (outside string literals), and so does the final `;`;
  2. `duckdb_intervals`: DuckDB's unquoted `INTERVAL 30 DAY` becomes `INTERVAL '30 days'`;
  3. `integer_division`: DuckDB's integer division `a // b` becomes `div(a, b)` for bare
     operands (PostgreSQL's `/` on integers already divides in integers);
  4. `alias_order_by`: a final ORDER BY whose expressions (not bare names) use the select
     list's aliases, which PostgreSQL does not allow, is moved to a query wrapped around the
     rest: `SELECT * FROM (…) AS ported ORDER BY … LIMIT n`.

DuckDB's texts already write dates as `cast('2000-08-23' AS date)`, date arithmetic as
`date + integer` (PostgreSQL's date + integer is a date too) and decimal division with
`* 1.0000`, so rules 2 and 3 find nothing in them today; they are kept for the next DuckDB
version. Queries that fail on PostgreSQL even so are in `EXCLUDED`, with their error.

Instances: a template's years moved together by a whole number of years (`shift_years`), the
only parameter varied: every year literal (1998–2002 outside strings), every ISO date in a
string literal and every d_month_seq (1176–1236, twelve a year) moves by `delta` years. A shift
is safe when every year the query touches, `year + k` sums included, stays within 1998–2002,
the years for which dsdgen generates sales (`valid_shift`). Instance 1 of a template is DuckDB's
text (shift 0); instances 2, 3, … take the first safe shifts of −1, +1, −2, +2. A template with
no year, date or month literal has one instance.
"""

from __future__ import annotations

import datetime as dt
import random
import re

#: Years with sales in dsdgen's data.
FIRST_YEAR, LAST_YEAR = 1998, 2002
#: d_month_seq of January of FIRST_YEAR (January 2000 is 1200).
FIRST_MONTH_SEQ = 1200 - 12 * (2000 - FIRST_YEAR)
#: Shifts tried, in order, for instances after the first.
SHIFTS = (-1, 1, -2, 2)
#: The held-out templates are drawn with this seed; see `split`.
SPLIT_SEED = 7
HELD_OUT_SHARE = 0.3

#: Templates left out, with the reason (filled from what PostgreSQL said when they were ported).
EXCLUDED: dict[str, str] = {}

_STRING = re.compile(r"'(?:[^']|'')*'")


def name(number: int) -> str:
    """A template's name: 'Q07'."""
    return f"Q{number:02d}"


def _outside_strings(sql: str, rewrite) -> str:
    """`rewrite` applied to each stretch of `sql` between string literals."""
    parts, last = [], 0
    for m in _STRING.finditer(sql):
        parts += [rewrite(sql[last:m.start()]), m.group()]
        last = m.end()
    parts.append(rewrite(sql[last:]))
    return "".join(parts)


def strip_comments(sql: str) -> str:
    def drop(text: str) -> str:
        return re.sub(r"--[^\n]*", "", text)
    text = _outside_strings(sql, drop)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return text.rstrip().rstrip(";").rstrip()


def duckdb_intervals(sql: str) -> str:
    def rewrite(text: str) -> str:
        return re.sub(r"\bINTERVAL\s+\(?\s*(\d+)\s*\)?\s+(DAY|MONTH|YEAR)S?\b",
                      lambda m: f"INTERVAL '{m.group(1)} {m.group(2).lower()}s'", text, flags=re.I)
    return _outside_strings(sql, rewrite)


def integer_division(sql: str) -> str:
    operand = r"([A-Za-z_][\w.]*|\d+|\([^()]*\))"
    def rewrite(text: str) -> str:
        return re.sub(operand + r"\s*//\s*" + operand, r"div(\1, \2)", text)
    return _outside_strings(sql, rewrite)


def _top_level(sql: str) -> list[int]:
    """Depth of parentheses at each character (string literals count as depth -1)."""
    depth, out, i = 0, [0] * len(sql), 0
    while i < len(sql):
        c = sql[i]
        if c == "'":
            end = _STRING.match(sql, i).end()
            for j in range(i, end):
                out[j] = -1
            i = end
            continue
        if c == "(":
            depth += 1
        out[i] = depth
        if c == ")":
            depth -= 1
        i += 1
    return out


def _split_top(text: str) -> list[str]:
    depths = _top_level(text)
    items, start = [], 0
    for i, c in enumerate(text):
        if c == "," and depths[i] == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items]


def _final_order_by(sql: str) -> tuple[int, str, str] | None:
    """(start, ORDER BY items, LIMIT clause) of the statement's final top-level ORDER BY."""
    depths = _top_level(sql)
    matches = [m for m in re.finditer(r"\bORDER\s+BY\b", sql, flags=re.I) if depths[m.start()] == 0]
    if not matches:
        return None
    m = matches[-1]
    rest = sql[m.end():]
    limit = re.search(r"\bLIMIT\s+\d+\s*$", rest, flags=re.I)
    items = rest[:limit.start()] if limit else rest
    return m.start(), items, limit.group().strip() if limit else ""


def _aliases(sql: str) -> set[str]:
    """The names the statement's top-level select lists give to expressions other than a bare
    column of that name (`x AS x` renames nothing)."""
    depths = _top_level(sql)
    return {m.group(2).lower() for m in re.finditer(r"([\w.]+)?\s*\bAS\s+([A-Za-z_]\w*)", sql, flags=re.I)
            if depths[m.start(2)] == 0 and (m.group(1) or "").split(".")[-1].lower() != m.group(2).lower()}


_SORT_WORDS = {"asc", "desc", "nulls", "first", "last", "case", "when", "then", "else", "end", "and", "or", "not",
               "is", "null", "in"}


def alias_order_by(sql: str) -> str:
    found = _final_order_by(sql)
    if found is None:
        return sql
    start, items, limit = found
    aliases = _aliases(sql[:start])
    for item in _split_top(items):
        bare = re.fullmatch(r"[\w.]+(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?", item, flags=re.I)
        if bare:
            continue
        words = {w.lower() for w in re.findall(r"(?<![.\w])([A-Za-z_]\w*)(?![\w.(])",
                                                  _outside_strings(item, lambda t: t).replace("''", ""))}
        if (words - _SORT_WORDS) & aliases:
            body = sql[:start].rstrip()
            return f"SELECT * FROM ({body}) AS ported\nORDER BY {items.strip()}" + (f"\n{limit}" if limit else "")
    return sql


RULES = (strip_comments, duckdb_intervals, integer_division, alias_order_by)


def port(sql: str) -> str:
    """DuckDB's text of a TPC-DS query as PostgreSQL runs it."""
    for rule in RULES:
        sql = rule(sql)
    return sql


def rules_applied(sql: str) -> list[str]:
    """The rules after `strip_comments` that changed the query's text."""
    changed = []
    sql = strip_comments(sql)
    for rule in RULES[1:]:
        after = rule(sql)
        if after != sql:
            changed.append(rule.__name__)
        sql = after
    return changed


# --- instances -----------------------------------------------------------------------------

_YEAR = re.compile(r"\b(199\d|200\d)\b(\s*\+\s*(\d+))?")
_MONTH_SEQ = re.compile(r"\b(11[5-9]\d|12[0-5]\d)\b(\s*\+\s*(\d+))?")
_DATE = re.compile(r"'(\d{4})-(\d\d)-(\d\d)'")


def year_literals(sql: str) -> dict[str, list[int]]:
    """The years the query names (`year + k` as its sum), its dates' years and its month
    sequence numbers (sums included): what `shift_years` moves."""
    found = {"years": [], "dates": [], "month_seqs": []}

    def scan(text: str) -> str:
        for m in _YEAR.finditer(text):
            found["years"].append(int(m.group(1)) + int(m.group(3) or 0))
        for m in _MONTH_SEQ.finditer(text):
            found["month_seqs"].append(int(m.group(1)) + int(m.group(3) or 0))
        return text
    _outside_strings(sql, scan)
    found["dates"] = [int(m.group(1)) for m in _DATE.finditer(sql)]
    return found


def valid_shift(sql: str, delta: int) -> bool:
    """Whether moving the query's years by `delta` keeps every year it touches within the data's."""
    found = year_literals(sql)
    years = found["years"] + found["dates"] + [FIRST_YEAR + (s - FIRST_MONTH_SEQ) // 12 for s in found["month_seqs"]]
    return bool(years) and all(FIRST_YEAR <= y + delta <= LAST_YEAR for y in years)


def _shift_date(m: re.Match, delta: int) -> str:
    year, month, day = int(m.group(1)) + delta, int(m.group(2)), int(m.group(3))
    if (month, day) == (2, 29):
        try:
            dt.date(year, 2, 29)
        except ValueError:
            day = 28
    return f"'{dt.date(year, month, day).isoformat()}'"


def shift_years(sql: str, delta: int) -> str:
    """The query with every year literal, ISO date string and d_month_seq moved by `delta` years."""
    if delta == 0:
        return sql

    def numbers(text: str) -> str:
        text = _YEAR.sub(lambda m: str(int(m.group(1)) + delta) + (m.group(2) or ""), text)
        return _MONTH_SEQ.sub(lambda m: str(int(m.group(1)) + 12 * delta) + (m.group(2) or ""), text)
    parts, last = [], 0
    for m in _STRING.finditer(sql):
        parts += [numbers(sql[last:m.start()]), _DATE.sub(lambda d: _shift_date(d, delta), m.group())]
        last = m.end()
    parts.append(numbers(sql[last:]))
    return "".join(parts)


def shifts(sql: str, count: int) -> list[int]:
    """The year shifts of a template's first `count` instances: 0, then the safe ones of SHIFTS."""
    out = [0]
    for delta in SHIFTS:
        if len(out) >= count:
            break
        if valid_shift(sql, delta):
            out.append(delta)
    return out[:count]


def split(names: list[str], seed: int = SPLIT_SEED, held_out_share: float = HELD_OUT_SHARE) -> tuple[list[str], list[str]]:
    """(training, held_out): round(held_out_share * n) of `names` drawn with `seed` are held out,
    the others trained on; both in the order of `names`."""
    held_out = set(random.Random(seed).sample(sorted(names), round(held_out_share * len(names))))
    return [n for n in names if n not in held_out], [n for n in names if n in held_out]
