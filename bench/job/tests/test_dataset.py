"""The generator's SQL and vocabularies, without a database: deterministic per seed, and every
value JOB's queries ask a lookup or vocabulary column for is one the data has."""

import re
import unittest

from job import dataset, queries

#: (table, column) to the values the generator puts there.
VOCABULARY = {
    ("kind_type", "kind"): dataset.KINDS,
    ("company_type", "kind"): dataset.COMPANY_TYPES,
    ("comp_cast_type", "kind"): dataset.COMP_CAST_TYPES,
    ("role_type", "role"): dataset.ROLES,
    ("link_type", "link"): dataset.LINKS,
    ("info_type", "info"): list(dataset.INFO_TYPES.values()),
    ("keyword", "keyword"): dataset.KEYWORDS,
    ("company_name", "country_code"): dataset.CODES,
    ("char_name", "name"): dataset.CHARACTERS,
    ("name", "gender"): ["m", "f"],
}


def literal_predicates():
    """(query, table, column, [literals]) for every `alias.column = 'x'` and `IN ('x', ...)`."""
    for name, sql in queries.all_queries().items():
        aliases = queries.tables_of(sql)
        for alias, column, values in re.findall(r"\b(\w+)\.(\w+)\s*(?:=|\bIN)\s*(\([^)]*\)|'[^']*')", sql):
            yield name, aliases[alias], column, re.findall(r"'([^']*)'", values)


class Vocabulary(unittest.TestCase):
    def test_every_value_the_queries_ask_for_exists(self):
        checked = 0
        for name, table, column, values in literal_predicates():
            vocabulary = VOCABULARY.get((table, column))
            if vocabulary is None:
                continue
            checked += 1
            # An IN list needs one of its values (JOB's own lists name values IMDb lacks, 'sequel'
            # among link types); an equality needs its value.
            self.assertTrue(set(values) & set(vocabulary), f"{name}: {table}.{column} {values}")
        self.assertGreater(checked, 200)

    def test_genre_and_country_values_the_queries_name_exist(self):
        asked = {v for _, table, column, values in literal_predicates() if (table, column) == ("movie_info", "info")
                 for v in values}
        known = set(dataset.GENRES) | set(dataset.COUNTRIES) | set(dataset.LANGUAGES)
        self.assertGreater(len(asked & known), 15)

    def test_keyword_pools_name_known_keywords(self):
        for genre, pool in list(dataset.GENRE_KEYWORDS.items()) + [("default", dataset.DEFAULT_KEYWORDS)]:
            self.assertEqual(len(pool), 8, genre)
            self.assertLessEqual(set(pool), set(dataset.KEYWORDS), genre)
        self.assertLessEqual(set(dataset.GENRE_KEYWORDS) | set(dataset.SPECIAL_TITLES), set(dataset.GENRES))


class Statements(unittest.TestCase):
    def test_the_same_scale_and_seed_give_the_same_sql_and_another_seed_other_sql(self):
        self.assertEqual(dataset.statements(0.1, 3), dataset.statements(0.1, 3))
        self.assertNotEqual(dataset.statements(0.1, 3), dataset.statements(0.1, 4))
        self.assertNotEqual(dataset.statements(0.1, 3), dataset.statements(0.2, 3))

    def test_every_table_is_filled_and_the_scratch_schema_dropped_last(self):
        steps = dataset.statements(0.1)
        filled = {table for table, _ in steps if table != "scratch"}
        self.assertEqual(filled, set(queries.schema()["tables"]))
        self.assertEqual(steps[-1], ("scratch", "DROP SCHEMA jobgen CASCADE"))

    def test_counts_follow_the_scale(self):
        small, large = dataset.counts(0.1), dataset.counts(1.0)
        self.assertEqual(large["title"], dataset.TITLES)
        self.assertEqual(large["cast_info"], 10 * dataset.TITLES)
        self.assertLess(small["cast_info"], large["cast_info"])
        self.assertGreaterEqual(dataset.counts(0.0001)["keyword"], len(dataset.KEYWORDS))

    def test_company_blocks_cover_every_id_largest_first(self):
        for companies in (64, 4700, 9400):
            starts = dataset.company_blocks(companies)
            self.assertEqual(len(starts), len(dataset.COUNTRIES))
            self.assertEqual(starts[0], 1)
            sizes = [b - a for a, b in zip(starts, starts[1:] + [companies + 1])]
            self.assertEqual(sum(sizes), companies)
            self.assertTrue(all(s >= 1 for s in sizes))
            self.assertEqual(sizes, sorted(sizes, reverse=True))
            # The named companies are all in the US block.
            self.assertGreater(sizes[0], len(dataset.US_COMPANIES))

    def test_schema_and_foreign_key_indexes(self):
        creates = dataset.create_statements()
        self.assertEqual(len(creates), 21)
        self.assertTrue(all("PRIMARY KEY" in sql for sql in creates))
        indexes = dataset.index_statements()
        self.assertIn("CREATE INDEX movie_id_cast_info ON cast_info (movie_id)", indexes)
        self.assertIn("CREATE INDEX info_type_id_movie_info ON movie_info (info_type_id)", indexes)
        self.assertEqual(len(indexes), len(set(indexes)))


if __name__ == "__main__":
    unittest.main()
