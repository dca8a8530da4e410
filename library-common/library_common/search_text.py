"""How text is searched and filed: accent folding, words, sort keys for titles and authors, and a
book's weighted search document. Standard library only, so the benchmark's generator (and any bulk
loader) builds exactly what the services build.

PostgreSQL's `unaccent` extension is not available everywhere (the embedded server has none), so
text is folded here, before it is stored or searched: "Brontë" and "bronte" are the same word.
"""

import re
import unicodedata

# Letters NFKD does not split into a base letter and a mark; casefold() already turns ß into "ss".
_SPECIAL_LETTERS = str.maketrans({"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th",
                                  "ı": "i", "ħ": "h", "ŀ": "l"})
_WORD = re.compile(r"[^\W_]+")
# "978-0-441-17271-9" and "0 345 39180 2" are one ISBN, so one word
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[-\s](?=\d)")


def fold(text):
    """Lower-case, without accents: "García Márquez" -> "garcia marquez", "Øster Straße" -> "oster strasse".

    Letters of other scripts stay as they are (lower-cased), so a Cyrillic title is found in Cyrillic.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_SPECIAL_LETTERS)


def words(text):
    """The folded words of `text`, in order; digits joined by hyphens or spaces count as one word."""
    return _WORD.findall(_DIGIT_SEPARATOR.sub("", fold(text)))


def name_key(name):
    """What makes two names (of genres, say) the same: case, accents, spacing and punctuation do not count
    ("Science Fiction", "science  fiction", "Science-Fiction" -> "science fiction")."""
    return " ".join(words(name)) or fold(name).strip()


# Leading articles a title is filed without, by ISO 639-1 language. Without a language: English's.
LEADING_ARTICLES = {
    "en": ("the", "a", "an"),
    "de": ("der", "die", "das", "ein", "eine"),
    "fr": ("le", "la", "les", "l'", "un", "une"),
    "es": ("el", "la", "los", "las", "un", "una"),
    "it": ("il", "lo", "la", "i", "gli", "le", "l'", "un", "una", "uno"),
    "pt": ("o", "a", "os", "as", "um", "uma"),
    "nl": ("de", "het", "een"),
}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})


def title_sort_key(title, language=None):
    """The title as a library files it: leading article dropped (by language), folded, punctuation left out.

    "The Hobbit" -> "hobbit"; "Der Process" (de) -> "process"; "L'Étranger" (fr) -> "etranger";
    a title that is only an article keeps it ("A").
    """
    text = title.strip().translate(_APOSTROPHES)
    for article in LEADING_ARTICLES.get(language or "en", LEADING_ARTICLES["en"]):
        separator = "" if article.endswith("'") else " "
        if text.lower().startswith(article + separator) and len(text) > len(article + separator):
            text = text[len(article + separator):]
            break
    return " ".join(words(text)) or fold(title.strip())


# Lower-case particles are filed after the given names, as library catalogues do ("Beethoven, Ludwig van",
# "Gogh, Vincent van"); written with a capital they are part of the surname ("De Quincey", "Van Buren").
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "des", "la", "le", "ter", "ten",
              "zu", "af", "y"}
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d."}
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:;|&|\band\b|\bwith\b)\s*")


# Words a compound surname starts with, in any letter case ("Le Guin", "de la Mare", "van Gogh", "Du Maurier",
# "St. Aubyn"): a name before a comma that starts with one is a surname written first, not a whole name.
# ("Mac" is left out: "Mac Barnett" is a given name as often as "Mac Low" is a surname.)
_SURNAME_STARTS = _PARTICLES | {"des", "dos", "das", "do", "st", "st.", "saint", "ibn", "bin"}


def _is_initial(word):
    """"K.", "J.R.R.", "É.", "J": capital letters each standing alone (a one-letter word in another script,
    such as "橘", is not an initial)."""
    letters = [letter for letter in word.split(".") if letter]
    return bool(letters) and all(len(letter) == 1 and letter.isupper() for letter in letters)


def _split_names(authors):
    """The first of the names joined by ";", "&", "and" or "with", and its parts between commas."""
    name = _AUTHOR_SEPARATORS.split(authors.strip(), maxsplit=1)[0]
    return [part.strip() for part in name.split(",")]


def _reads_surname_first(before, after):
    """Whether "before, after" is one name written "Surname, Given names" rather than two authors: the part
    before the comma can only be a surname (one word followed by given names alone, or words starting with a
    particle), or the part after it ends in an initial, which a name written "Given Surname" never does."""
    before_words, after_words = before.split(), after.split()
    if not before_words or not after_words:
        return False
    if _is_initial(after_words[-1]):  # "Le Guin, Ursula K.", "Tolkien, J. R. R."
        return True
    if len(before_words) == 1:  # "Austen, Jane", but "Homer, Robert Fagles" is Homer and his translator
        return len(after_words) == 1
    return before_words[0].lower() in _SURNAME_STARTS  # "de la Mare, Walter", "Van Gogh, Vincent"


def writes_surname_first(author_cells):
    """Whether a file writes its authors "Surname, Given names" (a library's export: "Austen, Jane",
    "García Márquez, Gabriel") rather than as lists of names ("J.K. Rowling, Mary GrandPré", as goodbooks
    does): at least half of the cells with a comma read as one name written surname first. Only a file says
    this; a single "García Márquez, Gabriel" could as well be two authors, as "Dr. Seuss, Various" is."""
    with_comma = [parts for parts in map(_split_names, author_cells) if len(parts) > 1]
    surname_first = sum(1 for parts in with_comma if _reads_surname_first(parts[0], parts[1]))
    return bool(with_comma) and 2 * surname_first >= len(with_comma)


def first_author(authors, surname_first=False):
    """The first of a list of authors, as bulk records write them: "J.K. Rowling, Mary GrandPré" -> "J.K. Rowling".

    A comma separates authors unless the name is written "Surname, Given names": always when `surname_first`
    (the whole file writes names that way: writes_surname_first), else when it reads so on its own
    (_reads_surname_first): "Tolkien, J. R. R.", "Le Guin, Ursula K.", "de la Mare, Walter". Such a name is
    kept as written, the surname first: that is how the catalogue files a compound surname (author_filing_name;
    "Ursula K. Le Guin" would be filed under "Guin"). A suffix stays with its name ("Martin Luther King, Jr.",
    "King, Martin Luther, Jr."). For records that list several names; a book's own `author` is one name, and
    author_filing_name reads any comma in it as "Surname, Given".
    """
    parts = _split_names(authors)
    if len(parts) > 1 and parts[1].lower() in _SUFFIXES:  # "Martin Luther King, Jr."
        return f"{parts[0]}, {parts[1]}"
    suffixed = len(parts) > 2 and parts[2].lower() in _SUFFIXES  # "King, Martin Luther, Jr."
    if len(parts) > 1 and (surname_first or suffixed or _reads_surname_first(parts[0], parts[1])):
        name = f"{parts[0]}, {parts[1]}"
        return f"{name}, {parts[2]}" if suffixed else name
    return parts[0]


def author_filing_name(author):
    """The first author as filed: surname first. "J. R. R. Tolkien" -> "Tolkien, J. R. R.".

    - already "Surname, Given" (any comma): kept, so a librarian who writes "García Márquez, Gabriel"
      gets that compound surname filed as such (from "Gabriel García Márquez" alone it cannot be told
      from a middle name: "Márquez, Gabriel García");
    - several authors joined by "and", "&", ";" or "with": the first;
    - otherwise the last word is the surname, with the lower-case particles before it moved behind the
      given names ("Ludwig van Beethoven" -> "Beethoven, Ludwig van") and a suffix kept at the end
      ("Martin Luther King Jr." -> "King, Martin Luther, Jr.");
    - "y" joins Spanish surnames: "José Ortega y Gasset" -> "Ortega y Gasset, José";
    - one word ("Homer", "Anonymous") is the whole key.
    """
    name = _AUTHOR_SEPARATORS.split(author.strip(), maxsplit=1)[0].strip()
    if "," in name:
        return name
    parts = name.split()
    suffix = ""
    if len(parts) > 2 and parts[-1].lower().rstrip(",") in _SUFFIXES:
        suffix = parts.pop().rstrip(",")
    if len(parts) < 2:
        return name
    surname = [parts.pop()]
    while len(parts) > 1 and parts[-1] == "y":  # Ortega y Gasset
        surname[:0] = parts[-2:]
        del parts[-2:]
    particles = []
    while len(parts) > 1 and parts[-1] in _PARTICLES:
        particles.insert(0, parts.pop())
    filed = f"{' '.join(surname)}, {' '.join(parts + particles)}"
    return f"{filed}, {suffix}" if suffix else filed


def author_sort_key(author):
    """The author as sorted: surname first, folded, punctuation left out (see author_filing_name).

    "Jane Austen" -> "austen jane" sorts before "Harper Lee" -> "lee harper"; the comma becomes a space
    so "lee harper" files before "leeds ..." ("nothing before something").
    """
    return " ".join(words(author_filing_name(author))) or fold(author.strip())


MAX_POSITION = 16383  # PostgreSQL's largest word position in a tsvector
# The weights of a book's search document: matches in the title rank first, then author, subjects,
# description (PostgreSQL's ts_rank weighs A, B, C, D as 1.0, 0.4, 0.2, 0.1).
TITLE, AUTHOR, SUBJECTS, DESCRIPTION = "A", "B", "C", "D"
# The document rides in the title-order index (INCLUDE), so a search listed in title order filters index
# entries instead of fetching rows; a B-tree entry holds at most 2,704 bytes. The document is therefore
# kept within DOCUMENT_BYTES as PostgreSQL stores it: every word of the title, ISBN and author (their
# field lengths keep them under ~1,700 bytes even when made of two-letter words), then the subjects and
# the description word by word while there is room (about 150 words of a description: a long summary is
# searched by its beginning), and at most POSITIONS_PER_WORD places per word.
DOCUMENT_BYTES = 2000
POSITIONS_PER_WORD = 8


def _stored_bytes(word, places):
    """What one word takes in a stored tsvector: its entry (4), its bytes, alignment, a count and 2 per place."""
    return 4 + len(word.encode()) + 1 + 2 + 2 * places


def _initials_joined(text_words):
    """Each run of two or more one-letter words, joined: ["j", "k", "rowling"] -> ["jk"]. Initials are written
    "J.K.", "J. K." or "JK"; with the joined form in the document, a search for any of them finds the name."""
    joined, run = [], []
    for word in [*text_words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if len(run) > 1:
            joined.append("".join(run))
        run = []
    return joined


def search_document(title, author, isbn=None, subjects=(), description=None, original_title=None):
    """A book's search document as tsvector text ("'hobbit':2A 'the':1A 'tolkien':3B ..."): folded words
    with their positions and weights (ISBN with the title), within DOCUMENT_BYTES. Built here rather than
    by PostgreSQL's to_tsvector so that it is folded, and split into words exactly as searches are.

    Initials in the title and author are also there joined ("J.K. Rowling": "j", "k" and "jk"), and the
    original title (of a translation: "L’Étranger" for "The Stranger") weighs as the title, after the
    author, while there is room; not when it has the title's words."""
    positions = {}
    size = 8  # the tsvector's own header
    if original_title and words(original_title) == words(title):
        original_title = None
    parts = [(title, TITLE, True), (isbn or "", TITLE, True), (author, AUTHOR, True),
             (original_title or "", TITLE, False), (" ".join(subjects or ()), SUBJECTS, False),
             (description or "", DESCRIPTION, False)]
    position = 0
    for text, weight, whole in parts:
        text_words = words(text)
        extra = _initials_joined(text_words) if whole else []
        for word in text_words + extra:
            position += 1
            places = positions.get(word, [])
            if len(places) >= POSITIONS_PER_WORD:
                continue
            grown = _stored_bytes(word, len(places) + 1) - (_stored_bytes(word, len(places)) if places else 0)
            if not whole and size + grown > DOCUMENT_BYTES:
                break
            positions[word] = [*places, f"{min(position, MAX_POSITION)}{weight}"]
            size += grown
    return " ".join(f"'{_quoted(word)}':{','.join(places)}" for word, places in positions.items())


def _quoted(word):
    return word.replace("\\", "\\\\").replace("'", "''")


def prefix_tsquery(query_words, weights=""):
    """["hitch", "adam"] -> "'hitch':* & 'adam':*" (every word, as a prefix); None without words.

    `weights` ("AB") keeps matches to those parts of the document (e.g. titles and authors)."""
    return " & ".join(f"'{_quoted(word)}':*{weights}" for word in query_words) or None


def book_search_columns(title, author, isbn=None, subjects=(), description=None, language=None, original_title=None):
    """A book's columns derived for searching and sorting (title_sort, author_sort, search_vector): what
    books-service stores with every book it writes, and what a bulk loader must write with each row."""
    return {
        "title_sort": title_sort_key(title, language),
        "author_sort": author_sort_key(author),
        "search_vector": search_document(title, author, isbn, subjects, description, original_title),
    }
