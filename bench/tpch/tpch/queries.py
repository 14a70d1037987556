"""The 22 TPC-H queries (specification v3, clause 2.4) for PostgreSQL 15, with the
specification's substitution parameters drawn from a seeded generator.

    instance(query, seed)    the SQL text of one instance of query 1..22
    parameters(query, seed)  the values drawn for that instance

Each instance draws its parameters from ``random.Random(f"{query}:{seed}")``, following the
"Substitution Parameters" section of its query (clause 2.4.N.3) and the value lists of clause
4.2.2.13 (types, containers, segments, ship modes, colours, ...) and 4.2.3 (nations, regions).
The same (query, seed) always gives the same text; different seeds give independent draws.

The query text is the specification's functional query definition, kept in its plain form:
joins in WHERE, correlated subqueries as written, and only these changes, each one a variant
the specification itself allows or one the target needs:

  * interval arithmetic in PostgreSQL's spelling (``date '1998-12-01' - interval '90 days'``
    instead of ``interval '90' day (3)``; ``date('1994-01-01')`` in Q20 becomes
    ``date '1994-01-01'``);
  * Q15's view becomes a common table expression, ``revenue0``, so every query is a single
    statement (the specification's own variant A of Q15 does the same);
  * "return the first N rows" is ``LIMIT N``: Q2 100, Q3 10, Q10 20, Q18 100, Q21 100;
  * no trailing semicolon, so the text can follow ``EXPLAIN`` or be wrapped.

Q19 keeps the specification's ``l_shipmode in ('AIR', 'AIR REG')`` literally: the data's mode
is spelled 'REG AIR', so only 'AIR' ever matches, as in every faithful implementation.

Q11's FRACTION is 0.0001 / SF, so ``instance`` and ``parameters`` take the scale factor as an
optional keyword (default 1); it changes no other query and no draw.

The text contains LIKE patterns with ``%``: execute it without a parameter sequence (psycopg
then sends it as is).
"""

from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal

QUERY_NUMBERS = range(1, 23)

# Clause 4.2.3: the nations with their region keys, and the regions.
NATIONS = (
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
    ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
    ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0),
    ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3),
    ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
)
NATION_NAMES = tuple(name for name, _ in NATIONS)
REGIONS = ("AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST")

# Clause 4.2.2.13: value lists used by the generator, hence by the substitution parameters.
SEGMENTS = ("AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD")
TYPE_SYLLABLE_1 = ("STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO")
TYPE_SYLLABLE_2 = ("ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED")
TYPE_SYLLABLE_3 = ("TIN", "NICKEL", "BRASS", "STEEL", "COPPER")
TYPES = tuple(f"{a} {b} {c}" for a in TYPE_SYLLABLE_1 for b in TYPE_SYLLABLE_2
              for c in TYPE_SYLLABLE_3)
CONTAINER_SYLLABLE_1 = ("SM", "LG", "MED", "JUMBO", "WRAP")
CONTAINER_SYLLABLE_2 = ("CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM")
CONTAINERS = tuple(f"{a} {b}" for a in CONTAINER_SYLLABLE_1 for b in CONTAINER_SYLLABLE_2)
SHIP_MODES = ("REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB")
# The 92 words P_NAME is made of.
COLORS = (
    "almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched",
    "blue", "blush", "brown", "burlywood", "burnished", "chartreuse", "chiffon", "chocolate",
    "coral", "cornflower", "cornsilk", "cream", "cyan", "dark", "deep", "dim", "dodger",
    "drab", "firebrick", "floral", "forest", "frosted", "gainsboro", "ghost", "goldenrod",
    "green", "grey", "honeydew", "hot", "indian", "ivory", "khaki", "lace", "lavender",
    "lawn", "lemon", "light", "lime", "linen", "magenta", "maroon", "medium", "metallic",
    "midnight", "mint", "misty", "moccasin", "navajo", "navy", "olive", "orange", "orchid",
    "pale", "papaya", "peach", "peru", "pink", "plum", "powder", "puff", "purple", "red",
    "rose", "rosy", "royal", "saddle", "salmon", "sandy", "seashell", "sienna", "sky",
    "slate", "smoke", "snow", "spring", "steel", "tan", "thistle", "tomato", "turquoise",
    "violet", "wheat", "white", "yellow",
)
# Q13's words (clause 2.4.13.3).
Q13_WORD_1 = ("special", "pending", "unusual", "express")
Q13_WORD_2 = ("packages", "requests", "accounts", "deposits")
# Clause 4.2.2.9: a phone number's country code is the nation key + 10.
COUNTRY_CODES = tuple(str(key + 10) for key in range(len(NATIONS)))


def _month_start(first_year: int, first_month: int, offset: int) -> _dt.date:
    index = first_year * 12 + (first_month - 1) + offset
    return _dt.date(index // 12, index % 12 + 1, 1)


def _months_between(first: tuple[int, int], last: tuple[int, int]) -> int:
    """How many month starts lie in [first, last], both (year, month)."""
    return (last[0] * 12 + last[1]) - (first[0] * 12 + first[1]) + 1


def _random_month(rng: random.Random, first: tuple[int, int], last: tuple[int, int]) -> _dt.date:
    return _month_start(first[0], first[1], rng.randrange(_months_between(first, last)))


def _random_january(rng: random.Random) -> _dt.date:
    """The first of January of a year drawn in [1993, 1997]."""
    return _dt.date(rng.randint(1993, 1997), 1, 1)


def _brand(rng: random.Random) -> str:
    """'Brand#MN', M and N drawn independently in [1, 5]."""
    return f"Brand#{rng.randint(1, 5)}{rng.randint(1, 5)}"


def _draw(query: int, rng: random.Random, scale: float) -> dict:
    if query == 1:
        return {"delta": rng.randint(60, 120)}
    if query == 2:
        return {"size": rng.randint(1, 50), "type": rng.choice(TYPE_SYLLABLE_3),
                "region": rng.choice(REGIONS)}
    if query == 3:
        return {"segment": rng.choice(SEGMENTS),
                "date": _dt.date(1995, 3, 1) + _dt.timedelta(days=rng.randint(0, 30))}
    if query == 4:
        return {"date": _random_month(rng, (1993, 1), (1997, 10))}
    if query == 5:
        return {"region": rng.choice(REGIONS), "date": _random_january(rng)}
    if query == 6:
        return {"date": _random_january(rng),
                "discount": Decimal(rng.randint(2, 9)) / 100,
                "quantity": rng.randint(24, 25)}
    if query == 7:
        nation1, nation2 = rng.sample(NATION_NAMES, 2)
        return {"nation1": nation1, "nation2": nation2}
    if query == 8:
        nation, region_key = rng.choice(NATIONS)
        return {"nation": nation, "region": REGIONS[region_key], "type": rng.choice(TYPES)}
    if query == 9:
        return {"color": rng.choice(COLORS)}
    if query == 10:
        return {"date": _random_month(rng, (1993, 2), (1995, 1))}
    if query == 11:
        return {"nation": rng.choice(NATION_NAMES),
                "fraction": Decimal("0.0001") / Decimal(str(scale))}
    if query == 12:
        shipmode1, shipmode2 = rng.sample(SHIP_MODES, 2)
        return {"shipmode1": shipmode1, "shipmode2": shipmode2, "date": _random_january(rng)}
    if query == 13:
        return {"word1": rng.choice(Q13_WORD_1), "word2": rng.choice(Q13_WORD_2)}
    if query == 14:
        return {"date": _dt.date(rng.randint(1993, 1997), rng.randint(1, 12), 1)}
    if query == 15:
        return {"date": _random_month(rng, (1993, 1), (1997, 10))}
    if query == 16:
        return {"brand": _brand(rng),
                "type": " ".join(rng.choice(TYPES).split(" ")[:2]),
                "sizes": rng.sample(range(1, 51), 8)}
    if query == 17:
        return {"brand": _brand(rng), "container": rng.choice(CONTAINERS)}
    if query == 18:
        return {"quantity": rng.randint(312, 315)}
    if query == 19:
        return {"quantity1": rng.randint(1, 10), "quantity2": rng.randint(10, 20),
                "quantity3": rng.randint(20, 30),
                "brand1": _brand(rng), "brand2": _brand(rng), "brand3": _brand(rng)}
    if query == 20:
        return {"color": rng.choice(COLORS), "date": _random_january(rng),
                "nation": rng.choice(NATION_NAMES)}
    if query == 21:
        return {"nation": rng.choice(NATION_NAMES)}
    if query == 22:
        return {"codes": rng.sample(COUNTRY_CODES, 7)}
    raise ValueError(f"TPC-H has queries 1..22, not {query!r}")


def _check(query: int) -> None:
    if not isinstance(query, int) or isinstance(query, bool) or query not in QUERY_NUMBERS:
        raise ValueError(f"TPC-H has queries 1..22, not {query!r}")


def parameters(query: int, seed: int, scale: float = 1.0) -> dict:
    """The substitution parameters of one instance: dates as datetime.date, decimals as
    Decimal, lists (Q16's sizes, Q22's country codes) as lists, in drawing order."""
    _check(query)
    return _draw(query, random.Random(f"{query}:{seed}"), scale)


def _render(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def instance(query: int, seed: int, scale: float = 1.0) -> str:
    """The SQL text of one instance of TPC-H query `query` (1..22) for seed `seed`."""
    params = parameters(query, seed, scale)
    return TEMPLATES[query].format(**{k: _render(v) for k, v in params.items()}).strip()


# The functional query definitions, clause 2.4.N.1, with {name} for each substitution
# parameter. A parameter used twice appears twice, with the same value.
TEMPLATES = {
    1: """
select
    l_returnflag,
    l_linestatus,
    sum(l_quantity) as sum_qty,
    sum(l_extendedprice) as sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,
    avg(l_quantity) as avg_qty,
    avg(l_extendedprice) as avg_price,
    avg(l_discount) as avg_disc,
    count(*) as count_order
from
    lineitem
where
    l_shipdate <= date '1998-12-01' - interval '{delta} days'
group by
    l_returnflag,
    l_linestatus
order by
    l_returnflag,
    l_linestatus
""",
    2: """
select
    s_acctbal,
    s_name,
    n_name,
    p_partkey,
    p_mfgr,
    s_address,
    s_phone,
    s_comment
from
    part,
    supplier,
    partsupp,
    nation,
    region
where
    p_partkey = ps_partkey
    and s_suppkey = ps_suppkey
    and p_size = {size}
    and p_type like '%{type}'
    and s_nationkey = n_nationkey
    and n_regionkey = r_regionkey
    and r_name = '{region}'
    and ps_supplycost = (
        select
            min(ps_supplycost)
        from
            partsupp,
            supplier,
            nation,
            region
        where
            p_partkey = ps_partkey
            and s_suppkey = ps_suppkey
            and s_nationkey = n_nationkey
            and n_regionkey = r_regionkey
            and r_name = '{region}'
    )
order by
    s_acctbal desc,
    n_name,
    s_name,
    p_partkey
limit 100
""",
    3: """
select
    l_orderkey,
    sum(l_extendedprice * (1 - l_discount)) as revenue,
    o_orderdate,
    o_shippriority
from
    customer,
    orders,
    lineitem
where
    c_mktsegment = '{segment}'
    and c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and o_orderdate < date '{date}'
    and l_shipdate > date '{date}'
group by
    l_orderkey,
    o_orderdate,
    o_shippriority
order by
    revenue desc,
    o_orderdate
limit 10
""",
    4: """
select
    o_orderpriority,
    count(*) as order_count
from
    orders
where
    o_orderdate >= date '{date}'
    and o_orderdate < date '{date}' + interval '3 months'
    and exists (
        select
            *
        from
            lineitem
        where
            l_orderkey = o_orderkey
            and l_commitdate < l_receiptdate
    )
group by
    o_orderpriority
order by
    o_orderpriority
""",
    5: """
select
    n_name,
    sum(l_extendedprice * (1 - l_discount)) as revenue
from
    customer,
    orders,
    lineitem,
    supplier,
    nation,
    region
where
    c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and l_suppkey = s_suppkey
    and c_nationkey = s_nationkey
    and s_nationkey = n_nationkey
    and n_regionkey = r_regionkey
    and r_name = '{region}'
    and o_orderdate >= date '{date}'
    and o_orderdate < date '{date}' + interval '1 year'
group by
    n_name
order by
    revenue desc
""",
    6: """
select
    sum(l_extendedprice * l_discount) as revenue
from
    lineitem
where
    l_shipdate >= date '{date}'
    and l_shipdate < date '{date}' + interval '1 year'
    and l_discount between {discount} - 0.01 and {discount} + 0.01
    and l_quantity < {quantity}
""",
    7: """
select
    supp_nation,
    cust_nation,
    l_year,
    sum(volume) as revenue
from
    (
        select
            n1.n_name as supp_nation,
            n2.n_name as cust_nation,
            extract(year from l_shipdate) as l_year,
            l_extendedprice * (1 - l_discount) as volume
        from
            supplier,
            lineitem,
            orders,
            customer,
            nation n1,
            nation n2
        where
            s_suppkey = l_suppkey
            and o_orderkey = l_orderkey
            and c_custkey = o_custkey
            and s_nationkey = n1.n_nationkey
            and c_nationkey = n2.n_nationkey
            and (
                (n1.n_name = '{nation1}' and n2.n_name = '{nation2}')
                or (n1.n_name = '{nation2}' and n2.n_name = '{nation1}')
            )
            and l_shipdate between date '1995-01-01' and date '1996-12-31'
    ) as shipping
group by
    supp_nation,
    cust_nation,
    l_year
order by
    supp_nation,
    cust_nation,
    l_year
""",
    8: """
select
    o_year,
    sum(case
        when nation = '{nation}' then volume
        else 0
    end) / sum(volume) as mkt_share
from
    (
        select
            extract(year from o_orderdate) as o_year,
            l_extendedprice * (1 - l_discount) as volume,
            n2.n_name as nation
        from
            part,
            supplier,
            lineitem,
            orders,
            customer,
            nation n1,
            nation n2,
            region
        where
            p_partkey = l_partkey
            and s_suppkey = l_suppkey
            and l_orderkey = o_orderkey
            and o_custkey = c_custkey
            and c_nationkey = n1.n_nationkey
            and n1.n_regionkey = r_regionkey
            and r_name = '{region}'
            and s_nationkey = n2.n_nationkey
            and o_orderdate between date '1995-01-01' and date '1996-12-31'
            and p_type = '{type}'
    ) as all_nations
group by
    o_year
order by
    o_year
""",
    9: """
select
    nation,
    o_year,
    sum(amount) as sum_profit
from
    (
        select
            n_name as nation,
            extract(year from o_orderdate) as o_year,
            l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity as amount
        from
            part,
            supplier,
            lineitem,
            partsupp,
            orders,
            nation
        where
            s_suppkey = l_suppkey
            and ps_suppkey = l_suppkey
            and ps_partkey = l_partkey
            and p_partkey = l_partkey
            and o_orderkey = l_orderkey
            and s_nationkey = n_nationkey
            and p_name like '%{color}%'
    ) as profit
group by
    nation,
    o_year
order by
    nation,
    o_year desc
""",
    10: """
select
    c_custkey,
    c_name,
    sum(l_extendedprice * (1 - l_discount)) as revenue,
    c_acctbal,
    n_name,
    c_address,
    c_phone,
    c_comment
from
    customer,
    orders,
    lineitem,
    nation
where
    c_custkey = o_custkey
    and l_orderkey = o_orderkey
    and o_orderdate >= date '{date}'
    and o_orderdate < date '{date}' + interval '3 months'
    and l_returnflag = 'R'
    and c_nationkey = n_nationkey
group by
    c_custkey,
    c_name,
    c_acctbal,
    c_phone,
    n_name,
    c_address,
    c_comment
order by
    revenue desc
limit 20
""",
    11: """
select
    ps_partkey,
    sum(ps_supplycost * ps_availqty) as value
from
    partsupp,
    supplier,
    nation
where
    ps_suppkey = s_suppkey
    and s_nationkey = n_nationkey
    and n_name = '{nation}'
group by
    ps_partkey having
        sum(ps_supplycost * ps_availqty) > (
            select
                sum(ps_supplycost * ps_availqty) * {fraction}
            from
                partsupp,
                supplier,
                nation
            where
                ps_suppkey = s_suppkey
                and s_nationkey = n_nationkey
                and n_name = '{nation}'
        )
order by
    value desc
""",
    12: """
select
    l_shipmode,
    sum(case
        when o_orderpriority = '1-URGENT'
            or o_orderpriority = '2-HIGH'
            then 1
        else 0
    end) as high_line_count,
    sum(case
        when o_orderpriority <> '1-URGENT'
            and o_orderpriority <> '2-HIGH'
            then 1
        else 0
    end) as low_line_count
from
    orders,
    lineitem
where
    o_orderkey = l_orderkey
    and l_shipmode in ('{shipmode1}', '{shipmode2}')
    and l_commitdate < l_receiptdate
    and l_shipdate < l_commitdate
    and l_receiptdate >= date '{date}'
    and l_receiptdate < date '{date}' + interval '1 year'
group by
    l_shipmode
order by
    l_shipmode
""",
    13: """
select
    c_count,
    count(*) as custdist
from
    (
        select
            c_custkey,
            count(o_orderkey)
        from
            customer left outer join orders on
                c_custkey = o_custkey
                and o_comment not like '%{word1}%{word2}%'
        group by
            c_custkey
    ) as c_orders (c_custkey, c_count)
group by
    c_count
order by
    custdist desc,
    c_count desc
""",
    14: """
select
    100.00 * sum(case
        when p_type like 'PROMO%'
            then l_extendedprice * (1 - l_discount)
        else 0
    end) / sum(l_extendedprice * (1 - l_discount)) as promo_revenue
from
    lineitem,
    part
where
    l_partkey = p_partkey
    and l_shipdate >= date '{date}'
    and l_shipdate < date '{date}' + interval '1 month'
""",
    15: """
with revenue0 (supplier_no, total_revenue) as (
    select
        l_suppkey,
        sum(l_extendedprice * (1 - l_discount))
    from
        lineitem
    where
        l_shipdate >= date '{date}'
        and l_shipdate < date '{date}' + interval '3 months'
    group by
        l_suppkey
)
select
    s_suppkey,
    s_name,
    s_address,
    s_phone,
    total_revenue
from
    supplier,
    revenue0
where
    s_suppkey = supplier_no
    and total_revenue = (
        select
            max(total_revenue)
        from
            revenue0
    )
order by
    s_suppkey
""",
    16: """
select
    p_brand,
    p_type,
    p_size,
    count(distinct ps_suppkey) as supplier_cnt
from
    partsupp,
    part
where
    p_partkey = ps_partkey
    and p_brand <> '{brand}'
    and p_type not like '{type}%'
    and p_size in ({sizes})
    and ps_suppkey not in (
        select
            s_suppkey
        from
            supplier
        where
            s_comment like '%Customer%Complaints%'
    )
group by
    p_brand,
    p_type,
    p_size
order by
    supplier_cnt desc,
    p_brand,
    p_type,
    p_size
""",
    17: """
select
    sum(l_extendedprice) / 7.0 as avg_yearly
from
    lineitem,
    part
where
    p_partkey = l_partkey
    and p_brand = '{brand}'
    and p_container = '{container}'
    and l_quantity < (
        select
            0.2 * avg(l_quantity)
        from
            lineitem
        where
            l_partkey = p_partkey
    )
""",
    18: """
select
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice,
    sum(l_quantity)
from
    customer,
    orders,
    lineitem
where
    o_orderkey in (
        select
            l_orderkey
        from
            lineitem
        group by
            l_orderkey having
                sum(l_quantity) > {quantity}
    )
    and c_custkey = o_custkey
    and o_orderkey = l_orderkey
group by
    c_name,
    c_custkey,
    o_orderkey,
    o_orderdate,
    o_totalprice
order by
    o_totalprice desc,
    o_orderdate
limit 100
""",
    19: """
select
    sum(l_extendedprice * (1 - l_discount)) as revenue
from
    lineitem,
    part
where
    (
        p_partkey = l_partkey
        and p_brand = '{brand1}'
        and p_container in ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
        and l_quantity >= {quantity1} and l_quantity <= {quantity1} + 10
        and p_size between 1 and 5
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )
    or
    (
        p_partkey = l_partkey
        and p_brand = '{brand2}'
        and p_container in ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
        and l_quantity >= {quantity2} and l_quantity <= {quantity2} + 10
        and p_size between 1 and 10
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )
    or
    (
        p_partkey = l_partkey
        and p_brand = '{brand3}'
        and p_container in ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
        and l_quantity >= {quantity3} and l_quantity <= {quantity3} + 10
        and p_size between 1 and 15
        and l_shipmode in ('AIR', 'AIR REG')
        and l_shipinstruct = 'DELIVER IN PERSON'
    )
""",
    20: """
select
    s_name,
    s_address
from
    supplier,
    nation
where
    s_suppkey in (
        select
            ps_suppkey
        from
            partsupp
        where
            ps_partkey in (
                select
                    p_partkey
                from
                    part
                where
                    p_name like '{color}%'
            )
            and ps_availqty > (
                select
                    0.5 * sum(l_quantity)
                from
                    lineitem
                where
                    l_partkey = ps_partkey
                    and l_suppkey = ps_suppkey
                    and l_shipdate >= date '{date}'
                    and l_shipdate < date '{date}' + interval '1 year'
            )
    )
    and s_nationkey = n_nationkey
    and n_name = '{nation}'
order by
    s_name
""",
    21: """
select
    s_name,
    count(*) as numwait
from
    supplier,
    lineitem l1,
    orders,
    nation
where
    s_suppkey = l1.l_suppkey
    and o_orderkey = l1.l_orderkey
    and o_orderstatus = 'F'
    and l1.l_receiptdate > l1.l_commitdate
    and exists (
        select
            *
        from
            lineitem l2
        where
            l2.l_orderkey = l1.l_orderkey
            and l2.l_suppkey <> l1.l_suppkey
    )
    and not exists (
        select
            *
        from
            lineitem l3
        where
            l3.l_orderkey = l1.l_orderkey
            and l3.l_suppkey <> l1.l_suppkey
            and l3.l_receiptdate > l3.l_commitdate
    )
    and s_nationkey = n_nationkey
    and n_name = '{nation}'
group by
    s_name
order by
    numwait desc,
    s_name
limit 100
""",
    22: """
select
    cntrycode,
    count(*) as numcust,
    sum(c_acctbal) as totacctbal
from
    (
        select
            substring(c_phone from 1 for 2) as cntrycode,
            c_acctbal
        from
            customer
        where
            substring(c_phone from 1 for 2) in
                ({codes})
            and c_acctbal > (
                select
                    avg(c_acctbal)
                from
                    customer
                where
                    c_acctbal > 0.00
                    and substring(c_phone from 1 for 2) in
                        ({codes})
            )
            and not exists (
                select
                    *
                from
                    orders
                where
                    o_custkey = c_custkey
            )
    ) as custsale
group by
    cntrycode
order by
    cntrycode
""",
}
