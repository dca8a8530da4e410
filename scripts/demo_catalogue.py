"""`make demo`: the library with a real catalogue, the goodbooks-10k books (data/, CC BY-SA 4.0), imported the way
a librarian imports a file (books-service's POST /imports, staged, then committed), each book with 1 to 4
copies. Loaded once: a catalogue that already has books is left as it is."""

import csv
import hashlib
import io
import time
from pathlib import Path

import requests

from library_common.processes import wait_until_answering

GOODBOOKS = Path(__file__).resolve().parents[1] / "data" / "goodbooks-10k-books.csv"


def copies_for(key):
    """1 to 4, the same for a book every time (from its id), so a demo looks alike on every machine."""
    return 1 + hashlib.sha256(key.encode()).digest()[0] % 4


def with_copies(content):
    """The CSV with a `copies` column added (the importer reads it as each book's number of copies)."""
    rows = csv.reader(io.StringIO(content.decode("utf-8")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = next(rows)
    writer.writerow([*header, "copies"])
    for row in rows:
        writer.writerow([*row, copies_for(row[0])])
    return out.getvalue().encode("utf-8")


def load(books_url, users_url, librarian, say=print):
    """Import the demo catalogue through the API once the services answer; (books added, seconds)."""
    wait_until_answering(f"{books_url}/ready", 120)
    wait_until_answering(f"{users_url}/ready", 120)
    if requests.get(f"{books_url}/books", params={"per_page": 1, "availability": "false"}, timeout=10).json():
        say("demo: the catalogue already has books; the demo catalogue is not loaded again")
        return 0, 0.0
    username, _, password = librarian.partition(":")
    token = requests.post(f"{users_url}/login", json={"username": username, "password": password},
                          timeout=10).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    say("demo: importing the goodbooks-10k catalogue (10,000 real books, CC BY-SA 4.0)...")
    upload = ("goodbooks-10k-books.csv", with_copies(GOODBOOKS.read_bytes()), "text/csv")
    created = requests.post(f"{books_url}/imports", headers=headers, timeout=60, data={"genre": "General"},
                            files={"file": upload})
    created.raise_for_status()
    import_id = created.json()["id"]
    for step, then in (("staged", "commit"), ("committed", None)):
        while (found := requests.get(f"{books_url}/imports/{import_id}", headers=headers, timeout=10).json()
               )["status"] != step:
            if found["status"] == "failed":
                raise RuntimeError(f"demo: the import failed: {found['problem']}")
            time.sleep(1)
        if then:
            requests.post(f"{books_url}/imports/{import_id}/commit", headers=headers, json={},
                          timeout=10).raise_for_status()
    seconds = time.monotonic() - started
    say(f"demo: {found['counts'].get('created', 0):,} books added in {seconds:.0f} s "
        f"(the import's page: /manage/imports/{import_id})")
    return found["counts"].get("created", 0), seconds
