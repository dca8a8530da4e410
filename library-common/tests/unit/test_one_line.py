import marshmallow as ma
import pytest

from library_common.schema import OneLine, Strict
from library_common.text import breaks_the_line, one_line


class Title(Strict):
    title = OneLine(required=True)


@pytest.mark.parametrize("bent", ["Dune\nSubject: forged", "Du\rne", "Du\tne", "Dune\x1b[31m", "Du\x85ne",
                                  "Dune\u2028Part two", "Dune\x7f"])
def test_one_line_text_refuses_every_line_break_and_control_character(bent):
    assert breaks_the_line(bent)
    with pytest.raises(ma.ValidationError) as refused:
        Title().load({"title": bent})
    assert "one line" in refused.value.messages["title"][0]


@pytest.mark.parametrize("fine", ["Dune", "L'Étranger", "שלום \u202eevil", "Cien años 🦋", "a  b"])
def test_one_line_text_keeps_what_is_printable(fine):
    assert not breaks_the_line(fine)
    assert Title().load({"title": f"  {fine} "}) == {"title": fine}


def test_folding_puts_any_text_on_one_line():
    assert one_line(" A\r\n\tB\u2028C\x00 ") == "A B C"
    assert one_line("plain") == "plain"


def test_the_rule_is_published_for_clients():
    import re

    from library_common.schema import ONE_LINE

    published = re.compile(ONE_LINE.encode().decode("unicode_escape"))
    assert published.fullmatch("L'Étranger 🦋") and not published.fullmatch("Dune\nBcc: x")
    assert Title().fields["title"].metadata["pattern"] == ONE_LINE
