"""make demo's catalogue: the goodbooks file as it is, with 1 to 4 copies per book, the same on every machine."""

import csv
import io
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import demo_catalogue  # noqa: E402


def test_every_book_gets_one_to_four_copies_the_same_every_time():
    original = demo_catalogue.GOODBOOKS.read_bytes()

    rows = list(csv.DictReader(io.StringIO(demo_catalogue.with_copies(original).decode())))
    again = list(csv.DictReader(io.StringIO(demo_catalogue.with_copies(original).decode())))

    assert len(rows) == 10000 and rows == again
    spread = Counter(row["copies"] for row in rows)
    assert set(spread) == {"1", "2", "3", "4"} and min(spread.values()) > 2000
    first = next(csv.DictReader(io.StringIO(original.decode())))
    assert {key: rows[0][key] for key in first} == first  # the file's own columns untouched
