"""The skew workload's data: a small shop (customers, products, orders, order lines) generated in
SQL, deterministic for a scale, in which columns that PostgreSQL treats as independent and
uniform are neither.

At scale 1: 100,000 customers, 20,000 products, 1,000,000 orders from 2019 to 2023, about
3,000,000 lines (1 to 5 per order); loading takes seconds. Every random-looking value is a hash
of the row's key (`hashint8extended`), so the same scale always gives the same rows.

What the planner gets wrong, by construction:

  * **Functional dependencies.** A customer's city determines its state and its country; a
    product's brand determines its subcategory and that its category. Filtering all three
    multiplies three selectivities where one applies: a city of thousands of customers is
    estimated at a few rows, a brand of 10 products at one.
  * **Skewed foreign keys, hot rows in correlated places.** Orders pick customers from a power
    law (the first 1% of customers place about a fifth of all orders), lines pick products from
    another (the ten products of brand 1 hold about 5% of all lines). The hot customers are all
    enterprise accounts (tier gold) in cities 1 to 5; the hot products are the oldest. The
    planner's per-key average (10 orders per customer, 150 lines per product) is far off for
    exactly the rows the correlated filters select, so an index probe it expects to return a
    handful returns thousands.
  * **Correlated ranges across a join.** A line ships within 14 days of its order: a window on
    order dates and the same window on ship dates select the same rows, and the planner
    multiplies their selectivities.
  * **Values that depend on time.** Orders are pending or shipped only in their last 20 days,
    were placed by phone only before 2020, and churned customers (10% of the others) ordered only
    before 2021; a filter on one of these and a range or order on the date are not independent.

Indexes: every primary key, every foreign key, orders(order_date), lines(ship_date),
customers(city) and products(brand); then VACUUM ANALYZE with the default statistics target,
and no extended statistics: what a DBA would do first.
"""

from __future__ import annotations

import time

import psycopg

#: Rows per unit of scale.
CUSTOMERS, PRODUCTS, ORDERS = 100_000, 20_000, 1_000_000
#: Customers 1 .. HOT_SHARE * customers are the enterprise accounts that order most.
HOT_SHARE = 0.01
#: Cities, states, countries; brands have ten products each.
CITIES, STATES, COUNTRIES = 5000, 500, 50
SUBCATEGORIES, CATEGORIES = 200, 20
#: Order dates: FIRST_DAY + 0 .. DAYS - 1.
FIRST_DAY, DAYS = "2019-01-01", 1826
TABLES = ("customers", "products", "orders", "lines")


def _u(key: str, salt: int) -> str:
    """SQL for a uniform value in [0, 1) that is a hash of `key` (52 bits of it)."""
    return f"((hashint8extended({key}, {salt}) & 4503599627370495)::float8 / 4503599627370496)"


def state_of(city: int) -> int:
    """The state a city lies in: a scrambled many-to-one map, so the largest cities (the
    lowest numbers) spread over states."""
    return 1 + (city * 7919) % STATES


def country_of(city: int) -> int:
    return 1 + (state_of(city) * 31) % COUNTRIES


def subcategory_of(brand: int) -> int:
    return 1 + (brand * 13) % SUBCATEGORIES


def category_of(brand: int) -> int:
    return 1 + (subcategory_of(brand) * 7) % CATEGORIES


def sizes(scale: float) -> dict[str, int]:
    """Rows of customers, products and orders at `scale` (lines are about 3 per order)."""
    # Customers a multiple of 10: a churned customer's orders from 2021 go to the next one.
    return {"customers": max(100, 10 * round(CUSTOMERS * scale / 10)), "products": max(100, round(PRODUCTS * scale)),
            "orders": max(1000, round(ORDERS * scale))}


def statements(scale: float) -> list[tuple[str, str]]:
    """The load, as (what, SQL) steps. The SQL spells state_of, country_of, subcategory_of and
    category_of as the Python functions of the same names do."""
    n = sizes(scale)
    hot = max(1, round(n["customers"] * HOT_SHARE))
    state = f"1 + (city * 7919) % {STATES}"
    country = f"1 + (({state}) * 31) % {COUNTRIES}"
    subcategory = f"1 + (brand * 13) % {SUBCATEGORIES}"
    category = f"1 + (({subcategory}) * 7) % {CATEGORIES}"
    day = f"date '{FIRST_DAY}' + (id * ({DAYS} - 1) / {n['orders']})::int"
    return [
        ("customers", f"""
CREATE TABLE customers AS
SELECT id, 'customer ' || id AS name, city, {state} AS state, {country} AS country, segment,
       CASE segment WHEN 'enterprise' THEN 'gold' WHEN 'public' THEN 'gold'
                    WHEN 'small_business' THEN 'silver' ELSE 'bronze' END AS tier,
       (id % 10 = 3 AND id > {hot}) AS churned
FROM (SELECT id,
             CASE WHEN id <= {hot} THEN 1 + id % 5
                  ELSE 1 + floor({CITIES} * power({_u('id', 1)}, 2.5))::int END AS city,
             CASE WHEN id <= {hot} THEN 'enterprise'
                  ELSE (ARRAY['consumer', 'consumer', 'consumer', 'small_business', 'small_business',
                              'public', 'education'])[1 + floor(7 * {_u('id', 2)})::int] END AS segment
      FROM generate_series(1, {n['customers']}) id) c"""),
        ("products", f"""
CREATE TABLE products AS
SELECT id, 'product ' || id AS name, brand, {subcategory} AS subcategory, {category} AS category,
       round((5 + 500 * {_u('id', 3)})::numeric, 2) AS price,
       date '2015-01-01' + (id * 1800 / {n['products']})::int AS launched
FROM (SELECT id, 1 + (id - 1) / 10 AS brand FROM generate_series(1, {n['products']}) id) p"""),
        ("orders", f"""
CREATE TABLE orders AS
SELECT id,
       CASE WHEN drawn % 10 = 3 AND drawn > {hot} AND order_date >= date '2021-01-01' THEN drawn + 1
            ELSE drawn END AS customer_id,
       order_date,
       CASE WHEN order_date > date '{FIRST_DAY}' + {DAYS} - 21
                 THEN CASE WHEN {_u('id', 5)} < 0.6 THEN 'pending' ELSE 'shipped' END
            WHEN {_u('id', 5)} < 0.03 THEN 'returned' ELSE 'delivered' END AS status,
       CASE WHEN order_date < date '2020-01-01' THEN CASE WHEN {_u('id', 6)} < 0.7 THEN 'phone' ELSE 'web' END
            WHEN order_date < date '2022-01-01' THEN CASE WHEN {_u('id', 6)} < 0.7 THEN 'web' ELSE 'app' END
            ELSE CASE WHEN {_u('id', 6)} < 0.8 THEN 'app' ELSE 'web' END END AS channel,
       round((10 + 990 * {_u('id', 7)})::numeric, 2) AS amount
FROM (SELECT id, 1 + floor({n['customers']} * power({_u('id', 4)}, 3))::int AS drawn, {day} AS order_date
      FROM generate_series(1, {n['orders']}) id) o"""),
        ("lines", f"""
CREATE TABLE lines AS
SELECT o.id * 8 + k AS id, o.id AS order_id, k AS line_no,
       1 + floor({n['products']} * power({_u('o.id * 8 + k', 8)}, 2.5))::int AS product_id,
       1 + floor(10 * {_u('o.id * 8 + k', 9)})::int AS quantity,
       o.order_date + floor(15 * {_u('o.id * 8 + k', 10)})::int AS ship_date,
       (o.status = 'returned' AND {_u('o.id * 8 + k', 11)} < 0.8) AS returned
FROM orders o, generate_series(1, 1 + floor(5 * {_u('o.id', 12)})::int) k"""),
        ("keys and indexes", """
ALTER TABLE customers ADD PRIMARY KEY (id);
ALTER TABLE products ADD PRIMARY KEY (id);
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE lines ADD PRIMARY KEY (id);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (order_date);
CREATE INDEX ON lines (order_id);
CREATE INDEX ON lines (product_id);
CREATE INDEX ON lines (ship_date);
CREATE INDEX ON customers (city);
CREATE INDEX ON products (brand)"""),
        ("vacuum analyze", "VACUUM ANALYZE customers, products, orders, lines"),
    ]


def load(conn: psycopg.Connection, scale: float) -> dict:
    """Drops and creates the tables at `scale` on an autocommit connection; returns their row
    counts and the seconds of each step."""
    conn.execute("DROP TABLE IF EXISTS " + ", ".join(reversed(TABLES)))
    timings = {}
    for what, sql in statements(scale):
        started = time.perf_counter()
        for statement in filter(str.strip, sql.split(";")):
            conn.execute(statement)
        timings[f"{what}_s"] = time.perf_counter() - started
    rows = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    return {"scale": scale, "rows": rows, "timings": timings}
