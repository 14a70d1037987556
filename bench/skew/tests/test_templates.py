"""The skew workload's templates and split, without a database. From bench/skew:

    PYTHONPATH=../tpch ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .
"""

import re
import unittest

from skew import dataset, templates


class Instances(unittest.TestCase):
    def test_the_same_seed_gives_the_same_text(self):
        for name in templates.TEMPLATES:
            for seed in (1, 2, 7, 123456789):
                self.assertEqual(templates.instance(name, seed), templates.instance(name, seed), (name, seed))

    def test_seeds_vary_the_constants(self):
        for name in templates.TEMPLATES:
            texts = {templates.instance(name, seed) for seed in range(1, 9)}
            self.assertGreater(len(texts), 1, name)

    def test_instances_of_a_template_differ_in_constants_only(self):
        def shape(sql):
            return re.sub(r"'[^']*'|\b\d+\b", "?", sql)
        for name in templates.TEMPLATES:
            self.assertEqual(len({shape(templates.instance(name, seed)) for seed in range(1, 9)}), 1, name)

    def test_every_template_is_one_select_joining_at_least_two_tables(self):
        for name in templates.TEMPLATES:
            sql = templates.instance(name, 1)
            self.assertTrue(sql.startswith("SELECT "), name)
            self.assertNotIn(";", sql, name)
            self.assertGreaterEqual(sql.count(" JOIN "), 1, name)

    def test_limits_order_by_a_unique_key_last(self):
        for name in templates.TEMPLATES:
            sql = templates.instance(name, 1)
            if " LIMIT " in sql:
                order = sql.split("ORDER BY", 1)[1].split("LIMIT", 1)[0]
                self.assertRegex(order.split(",")[-1].strip(), r"^[col]\.id( DESC)?$", name)

    def test_correlated_constants_agree_with_the_data(self):
        sql = templates.instance("geo_orders_window", 3)
        city = int(re.search(r"c\.city = (\d+)", sql).group(1))
        self.assertIn(f"c.state = {dataset.state_of(city)} AND c.country = {dataset.country_of(city)}", sql)
        sql = templates.instance("brand_ship_window", 3)
        brand = int(re.search(r"p\.brand = (\d+)", sql).group(1))
        self.assertIn(f"p.subcategory = {dataset.subcategory_of(brand)} AND p.category = {dataset.category_of(brand)}",
                      sql)

    def test_unknown_templates_are_refused(self):
        for name in ("", "geo", "Q1", None):
            with self.assertRaises(ValueError):
                templates.instance(name, 1)


class Blocks(unittest.TestCase):
    def test_every_block_is_shared_by_several_templates(self):
        users = {}
        for name in templates.TEMPLATES:
            for block in templates.blocks_of(name):
                users.setdefault(block, []).append(name)
        lonely = {block: names for block, names in users.items() if len(names) < 2 and block != "phone"}
        self.assertEqual(lonely, {})

    def test_a_block_reads_the_same_in_every_template(self):
        geo = re.compile(r"c\.city = \d+ AND c\.state = \d+ AND c\.country = \d+")
        for name in templates.TEMPLATES:
            if "geo" in templates.blocks_of(name):
                self.assertRegex(templates.instance(name, 1), geo, name)


class Split(unittest.TestCase):
    def test_the_split_is_deterministic(self):
        self.assertEqual(templates.split(), templates.split())
        self.assertEqual(templates.split(seed=3), templates.split(seed=3))

    def test_seventy_thirty_of_every_template(self):
        training, held_out = templates.split()
        self.assertEqual(sorted(training + held_out), sorted(templates.TEMPLATES))
        self.assertFalse(set(training) & set(held_out))
        self.assertEqual(len(held_out), round(0.3 * len(templates.TEMPLATES)))
        for n in (10, 13, 20):
            names = [f"t{i}" for i in range(n)]
            self.assertEqual(len(templates.split(names)[1]), round(0.3 * n), n)

    def test_other_seeds_give_other_splits(self):
        self.assertGreater(len({tuple(templates.split(seed=s)[1]) for s in range(10)}), 1)

    def test_what_held_out_templates_filter_on_was_trained_on(self):
        training, held_out = templates.split()
        trained = {block for name in training for block in templates.blocks_of(name)}
        for name in held_out:
            self.assertLessEqual(set(templates.blocks_of(name)), trained, name)


class Dataset(unittest.TestCase):
    def test_python_and_sql_agree_on_the_dependencies(self):
        sql = dict(dataset.statements(1))
        self.assertIn("1 + (city * 7919) % 500 AS state", sql["customers"])
        self.assertEqual(dataset.state_of(3), 1 + (3 * 7919) % 500)
        self.assertEqual(dataset.category_of(5), 1 + (dataset.subcategory_of(5) * 7) % 20)

    def test_sizes_scale_and_keep_a_floor(self):
        self.assertEqual(dataset.sizes(1), {"customers": 100_000, "products": 20_000, "orders": 1_000_000})
        tiny = dataset.sizes(0.0001)
        self.assertGreaterEqual(min(tiny.values()), 100)
        self.assertEqual(dataset.sizes(0.01234)["customers"] % 10, 0)


if __name__ == "__main__":
    unittest.main()
