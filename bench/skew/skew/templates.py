"""The skew workload's query templates, built from a shared pool of predicate blocks.

A block is one correlated filter on one table (or one pair of correlated ranges across a join),
written the same way wherever it appears: `geo` is `c.city = … AND c.state = … AND c.country = …`
in every template that uses it. microlora learns cardinality corrections keyed by a plan node's
base relations and its quals without constants, so what a template teaches about a block carries
over to every other template that uses it; the held-out templates (`split`) test exactly that.

Each template is a top-level SELECT joining two to four tables. An instance is a template with
its constants drawn from `random.Random(f"{name}:{seed}")`: the same (name, seed) always gives
the same text, and instances of a template differ in constants only, always drawn where the
correlation holds (the hot cities, the hot brands, ...), so they plan alike.

LIMIT queries order by a unique key last, so that every plan returns the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from . import dataset

_FIRST_DAY = dt.date.fromisoformat(dataset.FIRST_DAY)
#: The held-out templates are drawn with this seed; see `split`.
SPLIT_SEED = 7
HELD_OUT_SHARE = 0.3


class Blocks:
    """Draws the constants of the predicate blocks for one instance, and records which blocks
    the instance used."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: list[str] = []

    def _use(self, name: str) -> None:
        if name not in self.used:
            self.used.append(name)

    def _day(self, last: int = dataset.DAYS - 46) -> dt.date:
        return _FIRST_DAY + dt.timedelta(days=self.rng.randint(0, last))

    def geo(self) -> str:
        """Customers of one of the five largest cities, with its state and country (a
        functional dependency): estimated at a few rows, thousands in fact, the hot ones
        among them."""
        self._use("geo")
        city = self.rng.randint(1, 5)
        return (f"c.city = {city} AND c.state = {dataset.state_of(city)} "
                f"AND c.country = {dataset.country_of(city)}")

    def enterprise(self) -> str:
        """Enterprise customers are gold by definition; they are 1% of customers and place a
        fifth of the orders."""
        self._use("enterprise")
        return "c.segment = 'enterprise' AND c.tier = 'gold'"

    def churned(self) -> str:
        """Churned customers of one segment: 10% of customers, with no orders since 2020."""
        self._use("churned")
        segment = self.rng.choice(["consumer", "small_business", "education"])
        return f"c.churned AND c.segment = '{segment}'"

    def brand(self) -> str:
        """One of the eight best-selling brands, with its subcategory and category (a
        functional dependency): estimated at one product, ten in fact, each with thousands of
        lines."""
        self._use("brand")
        brand = self.rng.randint(1, 8)
        return (f"p.brand = {brand} AND p.subcategory = {dataset.subcategory_of(brand)} "
                f"AND p.category = {dataset.category_of(brand)}")

    def early_products(self) -> str:
        """The oldest products, which are also the best-selling."""
        self._use("early_products")
        return f"p.launched < '{dt.date(2015, 1, 1) + dt.timedelta(days=self.rng.randint(3, 10))}'"

    def pending(self) -> str:
        """Pending orders since a recent date: pending only exists in the last 20 days."""
        self._use("pending")
        since = _FIRST_DAY + dt.timedelta(days=dataset.DAYS - 1 - self.rng.randint(40, 90))
        return f"o.status = 'pending' AND o.order_date >= '{since}'"

    def phone(self) -> str:
        """Phone orders, of which there are none since 2020."""
        self._use("phone")
        return "o.channel = 'phone'"

    def order_window(self, shortest: int, longest: int) -> str:
        self._use("order_window")
        first = self._day()
        return f"o.order_date BETWEEN '{first}' AND '{first + dt.timedelta(days=self.rng.randint(shortest, longest))}'"

    def ship_window(self, shortest: int, longest: int) -> str:
        self._use("ship_window")
        first = self._day()
        return f"l.ship_date BETWEEN '{first}' AND '{first + dt.timedelta(days=self.rng.randint(shortest, longest))}'"

    def order_ship_window(self, shortest: int, longest: int) -> str:
        """Orders of a window and their lines shipped in it (or in the 14 days after): the two
        ranges select the same rows, and the planner multiplies their selectivities."""
        self._use("order_ship_window")
        first = self._day()
        days = self.rng.randint(shortest, longest)
        return (f"o.order_date BETWEEN '{first}' AND '{first + dt.timedelta(days=days)}' "
                f"AND l.ship_date BETWEEN '{first}' AND '{first + dt.timedelta(days=days + 14)}'")


_ORDERS = "customers c JOIN orders o ON o.customer_id = c.id"
_LINES = _ORDERS + " JOIN lines l ON l.order_id = o.id"
_ALL = _LINES + " JOIN products p ON p.id = l.product_id"
_PRODUCT_LINES = "products p JOIN lines l ON l.product_id = p.id JOIN orders o ON o.id = l.order_id"


def _geo_orders_window(b: Blocks) -> str:
    return (f"SELECT o.channel, count(*), sum(o.amount) FROM {_ORDERS} "
            f"WHERE {b.geo()} AND {b.order_window(20, 40)} GROUP BY o.channel")


def _geo_ship_window(b: Blocks) -> str:
    return (f"SELECT date_trunc('month', l.ship_date) AS month, count(*), sum(l.quantity) FROM {_LINES} "
            f"WHERE {b.geo()} AND {b.ship_window(10, 30)} GROUP BY 1")


def _geo_top_customers(b: Blocks) -> str:
    return (f"SELECT c.id, count(*) AS orders, sum(o.amount) FROM {_ORDERS} "
            f"WHERE {b.geo()} AND {b.order_window(300, 400)} GROUP BY c.id ORDER BY orders DESC, c.id LIMIT 10")


def _geo_pending(b: Blocks) -> str:
    return (f"SELECT c.segment, count(*), sum(o.amount) FROM {_ORDERS} "
            f"WHERE {b.pending()} AND {b.geo()} GROUP BY c.segment")


def _early_products_geo(b: Blocks) -> str:
    return (f"SELECT p.category, count(*) FROM {_ALL} "
            f"WHERE {b.early_products()} AND {b.geo()} GROUP BY p.category")


def _early_products_geo_window(b: Blocks) -> str:
    return (f"SELECT p.category, count(*) FROM {_ALL} "
            f"WHERE {b.early_products()} AND {b.geo()} AND {b.ship_window(30, 60)} GROUP BY p.category")


def _churned_latest_orders(b: Blocks) -> str:
    return (f"SELECT o.id, o.order_date, o.amount, c.name FROM {_ORDERS} "
            f"WHERE {b.churned()} ORDER BY o.order_date DESC, o.id DESC LIMIT 20")


def _churned_latest_lines(b: Blocks) -> str:
    return (f"SELECT o.id, o.order_date, l.product_id, l.quantity FROM {_LINES} "
            f"WHERE {b.churned()} ORDER BY o.order_date DESC, l.id DESC LIMIT 20")


def _order_ship_window_category(b: Blocks) -> str:
    return (f"SELECT p.subcategory, count(*), sum(l.quantity) FROM {_PRODUCT_LINES} "
            f"WHERE {b.order_ship_window(15, 25)} AND p.category = {b.rng.randint(1, dataset.CATEGORIES)} "
            f"GROUP BY p.subcategory")


def _enterprise_returns(b: Blocks) -> str:
    return (f"SELECT date_trunc('month', o.order_date) AS month, count(*), sum(o.amount) FROM {_ORDERS} "
            f"WHERE {b.enterprise()} AND o.status = 'returned' AND o.amount >= {b.rng.randint(10, 500)} GROUP BY 1")


def _enterprise_categories(b: Blocks) -> str:
    return (f"SELECT p.category, count(*), sum(l.quantity * p.price) FROM {_ALL} "
            f"WHERE {b.enterprise()} AND o.channel = '{b.rng.choice(['web', 'app'])}' GROUP BY p.category")


def _enterprise_geo_window(b: Blocks) -> str:
    return (f"SELECT o.status, count(*), sum(l.quantity) FROM {_LINES} "
            f"WHERE {b.enterprise()} AND {b.geo()} AND {b.order_ship_window(20, 40)} GROUP BY o.status")


def _enterprise_latest_phone(b: Blocks) -> str:
    return (f"SELECT o.id, o.amount, c.name FROM {_ORDERS} "
            f"WHERE {b.enterprise()} AND {b.phone()} AND o.amount >= {b.rng.randint(10, 500)} "
            f"ORDER BY o.order_date DESC, o.id DESC LIMIT 20")


def _brand_ship_window(b: Blocks) -> str:
    return (f"SELECT o.channel, count(*), sum(l.quantity * p.price) FROM {_PRODUCT_LINES} "
            f"WHERE {b.brand()} AND {b.ship_window(45, 90)} GROUP BY o.channel")


def _brand_geo_window(b: Blocks) -> str:
    return (f"SELECT c.segment, count(*), sum(l.quantity) FROM {_ALL} "
            f"WHERE {b.brand()} AND {b.geo()} AND {b.ship_window(60, 120)} GROUP BY c.segment")


def _pending_categories(b: Blocks) -> str:
    return (f"SELECT p.category, count(*), sum(l.quantity) FROM {_PRODUCT_LINES} "
            f"WHERE {b.pending()} GROUP BY p.category")


#: Every template, by name.
TEMPLATES: dict[str, Callable[[Blocks], str]] = {
    "geo_orders_window": _geo_orders_window,
    "geo_ship_window": _geo_ship_window,
    "geo_top_customers": _geo_top_customers,
    "geo_pending": _geo_pending,
    "early_products_geo": _early_products_geo,
    "early_products_geo_window": _early_products_geo_window,
    "churned_latest_orders": _churned_latest_orders,
    "churned_latest_lines": _churned_latest_lines,
    "order_ship_window_category": _order_ship_window_category,
    "enterprise_returns": _enterprise_returns,
    "enterprise_categories": _enterprise_categories,
    "enterprise_geo_window": _enterprise_geo_window,
    "enterprise_latest_phone": _enterprise_latest_phone,
    "brand_ship_window": _brand_ship_window,
    "brand_geo_window": _brand_geo_window,
    "pending_categories": _pending_categories,
}


def _check(name: str) -> None:
    if name not in TEMPLATES:
        raise ValueError(f"no template named {name!r}")


def instance(name: str, seed: int) -> str:
    """The SQL text of one instance of template `name`."""
    _check(name)
    return TEMPLATES[name](Blocks(random.Random(f"{name}:{seed}")))


def blocks_of(name: str) -> list[str]:
    """The predicate blocks template `name` uses, in order of use."""
    _check(name)
    blocks = Blocks(random.Random(0))
    TEMPLATES[name](blocks)
    return blocks.used


def split(names=None, seed: int = SPLIT_SEED, held_out_share: float = HELD_OUT_SHARE) -> tuple[list[str], list[str]]:
    """(training, held_out): round(held_out_share * n) templates drawn with `seed` are held
    out, the others trained on; both in the order of `names` (default: every template)."""
    names = list(TEMPLATES if names is None else names)
    held_out = set(random.Random(seed).sample(sorted(names), round(held_out_share * len(names))))
    return [n for n in names if n not in held_out], [n for n in names if n in held_out]
