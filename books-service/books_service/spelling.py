""""Did you mean …?": corrections built from the catalogue's own words (the `search_words` tally).

A searched word that only starts some catalogue words is taken as meant (searches match word prefixes,
so "hobb" is not a typo). Any other word's candidates are the catalogue's words within an edit distance
of 2 (1 for words of 3 letters; a swap of two letters counts as one edit, so "Tolkein" is one edit
from "Tolkien"), the closest first and, among equally close ones, the one most books use. A word the
catalogue has, in a search that found books, was most likely meant: it is "corrected" only as a slip of
the fingers would have made it (two letters swapped, one left out or doubled) and only to a much commoner
word ("tolkein" in one mistyped title, "tolkien" in dozens), never to another word ("catcher", which
finds The Catcher in the Rye, is not offered "archer").
"""

import bisect
import itertools
import threading
import time

import sqlalchemy as sa
from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from .models import SearchWord, db

SHORTEST_CORRECTED = 3  # shorter words have too many neighbours to guess from
CANDIDATES_PER_WORD = 12
MOST_WORDS_CORRECTED = 8  # a longer search keeps its later words as typed: each costs a pass over the words
MOST_COMBINATIONS = 1000  # of several words' candidates (12 ** 5 would be 248,832)
TRIES_AFTER_NONE = 12
# After a search that found some books, a word the catalogue has is replaced only by a neighbour this many
# times as common ("tolkein" in one mistyped title, "tolkien" in dozens), and only the best few are tried:
# a rare word is most often meant, and a search that finds books must not pay for a dozen more.
COMMONER = 10
TRIES_AFTER_SOME = 3


def max_edits(word):
    return 1 if len(word) <= 3 else 2


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

    def corrections(self, query_words, found_some=False):
        """Corrected searches, the likeliest first; none when nothing could be corrected.

        Words the catalogue lacks are corrected, each to one of its best candidates, in every combination
        (at most MOST_COMBINATIONS), best candidates first. When the catalogue has every word, one word at a
        time is replaced, the rarest words first (after a search that `found_some` books, every word found
        them: only as a slip of the fingers, by a word COMMONER times as common; a title with a typo in it
        does not make the typo right, and a word that found books is not another word). The caller tries
        the searches in order and keeps the first that finds more books, as Solr's spellchecker does with
        "collations": at most TRIES_AFTER_NONE of them, or TRIES_AFTER_SOME after a search that found some.
        """
        known, books = self._current()
        unknown = [at < MOST_WORDS_CORRECTED and self._unknown(word, known, books)
                   for at, word in enumerate(query_words)]
        if any(unknown):
            per_word_limit = max(1, min(CANDIDATES_PER_WORD, int(MOST_COMBINATIONS ** (1 / sum(unknown)))))
            per_word = [(self._candidates(word, known, books)[:per_word_limit] or [word]) if unknown[at] else [word]
                        for at, word in enumerate(query_words)]
            ranked = [(sum(alternatives.index(word) for word, alternatives in zip(search, per_word, strict=True)),
                       search) for search in itertools.product(*per_word)]
        else:
            ranked = [((rank, books.get(word, 0)), [*query_words[:at], candidate, *query_words[at + 1:]])
                      for at, word in enumerate(query_words[:MOST_WORDS_CORRECTED])
                      for rank, candidate in enumerate(self._candidates(word, known, books, found_some))]
        ranked.sort(key=lambda scored: scored[0])
        tries = TRIES_AFTER_SOME if found_some else TRIES_AFTER_NONE
        return [list(search) for _score, search in ranked if list(search) != list(query_words)][:tries]

    @staticmethod
    def _unknown(word, known, books):
        """Neither a catalogue word nor the start of one (nor too short or a number to tell)."""
        if len(word) < SHORTEST_CORRECTED or word.isdigit() or word in books:
            return False
        at = bisect.bisect_left(known, word)
        return not (at < len(known) and known[at].startswith(word))

    @staticmethod
    def _slip(word, candidate):
        """One slip of the fingers from `candidate`: two letters swapped, or one left out or doubled ("tolkein",
        "hobit"); not another letter in its place, which makes another word as often ("catcher" is not
        "catches")."""
        one_edit = OSA.distance(word, candidate) == 1
        return one_edit and (Indel.distance(word, candidate) == 1 or sorted(word) == sorted(candidate))

    @staticmethod
    def _candidates(word, known, books, word_found_books=False):
        """Catalogue words within max_edits of `word` (when the `word_found_books`, only a _slip from one COMMONER
        times as common), likeliest first:
        the fewest edits; the same first letter (typos rarely change it); a letter left out, doubled or two
        swapped rather than a wrong one ("hobit": "hobbit" before "habit"); then the word more books use."""
        if len(word) < SHORTEST_CORRECTED or word.isdigit():
            return []
        at_least = books.get(word, 0) * COMMONER if word_found_books else 0
        found = [candidate for candidate, _distance, _index in process.extract(
            word, known, scorer=OSA.distance, score_cutoff=1 if word_found_books else max_edits(word), limit=None)
            if candidate != word and books[candidate] >= at_least
            and (not word_found_books or Vocabulary._slip(word, candidate))]

        def likelihood(candidate):
            swapped = sorted(candidate) == sorted(word)
            return (OSA.distance(word, candidate), candidate[0] != word[0],
                    1 if swapped else Indel.distance(word, candidate), -books[candidate], candidate)

        return sorted(found, key=likelihood)[:CANDIDATES_PER_WORD]
