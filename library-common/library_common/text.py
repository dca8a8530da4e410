"""One-line text: what may stand in a title, a name or a mail header. Standard library only (the import, the
mail sender and the schemas share it)."""

import re

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: each ends or bends a line
# somewhere (a mail header, a log line, a CSV cell), so none belongs in one-line text.
_LINE_BREAKERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_RUNS_OF_SPACE = re.compile(r"\s{2,}")


def breaks_the_line(text):
    """Whether `text` holds a control character or a line break."""
    return _LINE_BREAKERS.search(text) is not None


def one_line(text):
    """`text` folded onto one line: each control character or line break becomes a space, runs of white
    space one space, the ends trimmed ("A\\r\\nB" -> "A B")."""
    return _RUNS_OF_SPACE.sub(" ", _LINE_BREAKERS.sub(" ", text)).strip()
