""""Did you mean …?": corrections built from the catalogue's own words (the `search_words` tally).

A searched word that only starts some catalogue words is taken as meant (searches match word prefixes,
so "hobb" is not a typo). Any other word's candidates are the catalogue's words within an edit distance
of 2 (1 for words of up to 4 letters; a swap of two letters counts as one edit, so "Tolkein" is one edit
from "Tolkien"), the closest first and, among equally close ones, the one most books use. A word the
catalogue has is corrected only to a word more books use (a title with a typo in it does not make the
typo right).
"""

import bisect
import threading
import time

import sqlalchemy as sa
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .models import SearchWord, db

SHORTEST_CORRECTED = 3  # shorter words have too many neighbours to guess from


def max_edits(word):
    return 1 if len(word) <= 4 else 2


class Vocabulary:
    """The catalogue's words and how many books use each, read from the database at most once every
    `refresh_seconds` per process (an app-lifetime object: see deps)."""

    def __init__(self, refresh_seconds):
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._loaded_at = None
        self._words = []  # sorted, for prefix look-ups
        self._books = {}

    def _current(self):
        with self._lock:
            if self._loaded_at is None or time.monotonic() - self._loaded_at >= self.refresh_seconds:
                rows = db.session.execute(sa.select(SearchWord.word, SearchWord.books).where(SearchWord.books > 0))
                self._books = dict(rows.all())
                self._words = sorted(self._books)
                self._loaded_at = time.monotonic()
            return self._words, self._books

    def correct(self, query_words):
        """The words with each unknown one replaced by its best correction; None when nothing changes."""
        known, books = self._current()
        corrected = [self._correction(word, known, books) for word in query_words]
        return corrected if corrected != list(query_words) else None

    @staticmethod
    def _correction(word, known, books):
        if len(word) < SHORTEST_CORRECTED or word.isdigit():
            return word
        at = bisect.bisect_left(known, word)
        if at < len(known) and known[at].startswith(word) and known[at] != word:
            return word
        used_by = books.get(word, 0)
        candidates = [found for found in process.extract(word, known, scorer=OSA.distance,
                                                         score_cutoff=max_edits(word), limit=None)
                      if books[found[0]] > used_by]
        if not candidates:
            return word
        best, _distance, _index = min(candidates, key=lambda found: (found[1], -books[found[0]], found[0]))
        return best
