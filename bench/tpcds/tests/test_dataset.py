"""The PostgreSQL schema made from DuckDB's TPC-DS tables."""

import unittest

from tpcds import dataset


class Schema(unittest.TestCase):
    def test_types(self):
        self.assertEqual(dataset.pg_type("DECIMAL(7,2)"), "numeric(7,2)")
        self.assertEqual(dataset.pg_type("BIGINT"), "bigint")
        self.assertEqual(dataset.pg_type("VARCHAR"), "varchar")
        self.assertRaises(ValueError, dataset.pg_type, "BLOB")

    def test_table_and_key(self):
        self.assertEqual(dataset.create_table("t", [("a", "INTEGER"), ("b", "DATE"), ("c", "VARCHAR")], ["a", "b"]),
                         "CREATE TABLE t (a integer NOT NULL, b date NOT NULL, c varchar)")
        self.assertEqual(dataset.primary_key("t", ["a", "b"]), "ALTER TABLE t ADD PRIMARY KEY (a, b)")
        self.assertIsNone(dataset.primary_key("t", []))

    def test_generated_tables_have_the_specs_keys(self):
        import pathlib
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            tables = dataset.generate(0.01, pathlib.Path(tmp))  # below 0.01 dsdgen does not finish
            self.assertEqual(len(tables), 24)
            self.assertEqual(tables["store_sales"]["primary_key"],
                             "ALTER TABLE store_sales ADD PRIMARY KEY (ss_item_sk, ss_ticket_number)")
            self.assertTrue(all(t["primary_key"] for t in tables.values()))
            self.assertGreater(tables["store_sales"]["rows"], 0)
            self.assertTrue((pathlib.Path(tmp) / "store_sales.csv").stat().st_size > 0)
