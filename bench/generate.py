"""Fill the three services' databases with a library of a given scale, deterministically (seeded).

    python bench/generate.py --scale small|default|large --host /path/to/socket/dir

Rows go straight in with COPY (each service's own database, as its own tables), then the sequences
are moved past them and the tables analysed. Every generated patron's password is "bench-password".
"""

import argparse
import csv
import io
import random
import time
from datetime import datetime, timedelta, timezone

import psycopg2
from faker import Faker
from werkzeug.security import generate_password_hash

from library_common.search_text import book_search_columns, fold, name_key

SCALES = {
    "small": {"books": 10_000, "users": 5_000, "history": 100_000, "active": 3_000},
    "default": {"books": 100_000, "users": 20_000, "history": 1_000_000, "active": 30_000},
    "large": {"books": 1_000_000, "users": 50_000, "history": 2_000_000, "active": 60_000},
}
GENRES = ["Fantasy", "Science Fiction", "Mystery", "Thriller", "Romance", "Horror", "History", "Biography",
          "Poetry", "Drama", "Classics", "Adventure", "Children", "Young Adult", "Philosophy", "Religion",
          "Science", "Mathematics", "Travel", "Cooking", "Art", "Music", "Politics", "Economics", "Law",
          "Medicine", "Psychology", "Sociology", "Education", "Sports", "Nature", "Technology", "Crime",
          "Humour", "Memoir", "Essays", "Short Stories", "Graphic Novels", "Reference", "Languages"]
# Most books in English, some in other languages (the language facet and filter have something to count).
LANGUAGES = ["en"] * 16 + ["fr", "de", "es", "it"]
BENCH_PASSWORD = "bench-password"
CHECKOUT_PATRONS = 500  # patrons bench0..bench499 start with no loans: the checkout scenario uses them
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def copy_rows(connection, table, columns, rows, batch=200_000):
    cursor = connection.cursor()
    buffer, writer, count = io.StringIO(), None, 0
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        count += 1
        if count % batch == 0:
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
            buffer, writer = io.StringIO(), None
            writer = csv.writer(buffer)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    connection.commit()
    return count


def finish(connection, table):
    cursor = connection.cursor()
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    connection.commit()
    connection.autocommit = True
    cursor.execute(f"VACUUM ANALYZE {table}")  # what autovacuum would soon do: statistics and visibility map
    connection.autocommit = False


def generate(scale, host, seed=2026):
    sizes = SCALES[scale]
    rng = random.Random(seed)
    fake = Faker()
    Faker.seed(seed)
    connect = {name: psycopg2.connect(dbname=name, user="postgres", host=host)
               for name in ("books", "users", "borrows")}
    timings = {}

    started = time.monotonic()
    authors = [fake.name() for _ in range(max(2_000, sizes["books"] // 20))]
    words = sorted(set(fake.get_words_list()) | {fake.last_name().lower() for _ in range(3_000)})
    rng.shuffle(words)
    # Zipf-like: the first words are common in titles, the last ones rare, as in real catalogues.
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    copies = [1 + int(rng.random() ** 2 * 5) for _ in range(sizes["books"])]  # 1-5, mostly few

    def books():
        for number in range(sizes["books"]):
            title = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(2, 5))).title()
            author, language = rng.choice(authors), LANGUAGES[number % len(LANGUAGES)]
            created = NOW - timedelta(days=rng.randint(0, 3650))
            derived = book_search_columns(title, author, language=language)  # as books-service derives them
            yield (number + 1, title, author, GENRES[number % len(GENRES)], rng.randint(1900, 2025), language,
                   copies[number], created.isoformat(), created.isoformat(), derived["title_sort"],
                   derived["author_sort"], derived["search_vector"])

    copy_rows(connect["books"], "genres", ["name", "key"], ((genre, name_key(genre)) for genre in GENRES))
    copy_rows(connect["books"], "books",
              ["id", "title", "author", "genre", "published_year", "language", "copies", "created_at", "updated_at",
               "title_sort", "author_sort", "search_vector"], books())
    finish(connect["books"], "books")

    def items():  # each copy an item with a barcode (books.copies already counts them: triggers stay off)
        barcode = 1_000_000_000
        for book_id, count in enumerate(copies, start=1):
            for _ in range(count):
                barcode += 1
                yield book_id, str(barcode), NOW.isoformat(), NOW.isoformat()

    connect["books"].cursor().execute("SET session_replication_role = replica")
    copy_rows(connect["books"], "items", ["book_id", "barcode", "created_at", "updated_at"], items())
    connect["books"].cursor().execute("SET session_replication_role = DEFAULT")
    finish(connect["books"], "items")
    connect["books"].cursor().execute(
        "SELECT setval('item_barcodes', (SELECT max(barcode::bigint) FROM items))")
    connect["books"].commit()
    timings["books"] = time.monotonic() - started

    started = time.monotonic()
    password_hash = generate_password_hash(BENCH_PASSWORD)
    first_names = [fake.first_name() for _ in range(500)]
    last_names = [fake.last_name() for _ in range(500)]

    def users():
        for number in range(sizes["users"]):
            first, last = rng.choice(first_names), rng.choice(last_names)
            yield (f"bench{number}", password_hash, first, last, fold(first), fold(last), "patron",
                   "true", (NOW - timedelta(days=rng.randint(0, 2000))).isoformat())

    copy_rows(connect["users"], "users",
              ["username", "password_hash", "first_name", "last_name", "first_name_folded", "last_name_folded",
               "role", "active", "created_at"], users())
    finish(connect["users"], "users")
    timings["users"] = time.monotonic() - started

    started = time.monotonic()

    def history():
        for _ in range(sizes["history"]):
            borrowed = NOW - timedelta(days=rng.randint(30, 3 * 365), seconds=rng.randint(0, 86_400))
            yield (f"bench{rng.randrange(sizes['users'])}", rng.randint(1, sizes["books"]), borrowed.isoformat(),
                   (borrowed + timedelta(days=14)).isoformat(), "true",
                   (borrowed + timedelta(days=rng.randint(1, 20))).isoformat(), rng.choice((0, 0, 0, 1)))

    def active():
        on_loan, per_user, made = [0] * (sizes["books"] + 1), {}, 0
        while made < sizes["active"]:
            book_id = rng.randint(1, sizes["books"])
            user = rng.randrange(CHECKOUT_PATRONS, sizes["users"])
            if on_loan[book_id] >= copies[book_id - 1] or per_user.get(user, 0) >= 4 or (user, book_id) in per_user:
                continue
            on_loan[book_id] += 1
            per_user[user] = per_user.get(user, 0) + 1
            per_user[(user, book_id)] = True
            made += 1
            borrowed = NOW - timedelta(days=rng.randint(0, 20))
            yield (f"bench{user}", book_id, borrowed.isoformat(), (borrowed + timedelta(days=14)).isoformat(),
                   "false", None, 0)

    columns = ["username", "book_id", "borrow_date", "due_date", "returned", "returned_date", "renewals"]
    copy_rows(connect["borrows"], "loans", columns, history())
    copy_rows(connect["borrows"], "loans", columns, active())
    finish(connect["borrows"], "loans")
    timings["loans"] = time.monotonic() - started
    for connection in connect.values():
        connection.close()
    return {"scale": scale, **sizes, "seconds": {k: round(v, 1) for k, v in timings.items()},
            "search_words": {"common": sorted(words[:20]), "rare": sorted(words[-20:])}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=SCALES, default="default")
    parser.add_argument("--host", required=True, help="PostgreSQL host or socket directory")
    print(generate(parser.parse_args().scale, parser.parse_args().host))
