"""Folding, words, sort keys and search documents (library_common.search_text)."""

import pytest

from library_common.search_text import (author_filing_name, author_sort_key, first_author, fold, prefix_tsquery,
                                        search_document, title_sort_key, words, writes_surname_first)


@pytest.mark.parametrize("text, folded", [
    ("Brontë", "bronte"), ("García Márquez", "garcia marquez"), ("Øster Straße", "oster strasse"),
    ("Łódź", "lodz"), ("Æsop", "aesop"), ("Война и мир", "воина и мир"), ("ＦＵＬＬ", "full")])
def test_accents_case_and_special_letters_fold_away(text, folded):
    assert fold(text) == folded


def test_words_are_folded_and_isbns_stay_whole():
    assert words("Brontë's «Jane Eyre», 978-0-14-143951-8") == ["bronte", "s", "jane", "eyre", "9780141439518"]


@pytest.mark.parametrize("title, language, key", [
    ("The Hobbit", None, "hobbit"), ("A Tale of Two Cities", "en", "tale of two cities"),
    ("An Abundance of Katherines", None, "abundance of katherines"), ("Der Process", "de", "process"),
    ("Die Verwandlung", "de", "verwandlung"), ("Les Misérables", "fr", "miserables"),
    ("L’Étranger", "fr", "etranger"), ("El Aleph", "es", "aleph"), ("Los de abajo", "es", "de abajo"),
    ("Die Hard", "en", "die hard"), ("The", None, "the"), ("Theory of Everything", None, "theory of everything")])
def test_titles_file_without_their_leading_article(title, language, key):
    assert title_sort_key(title, language) == key


@pytest.mark.parametrize("author, filed", [
    ("J. R. R. Tolkien", "Tolkien, J. R. R."), ("Tolkien, J. R. R.", "Tolkien, J. R. R."),
    ("Ludwig van Beethoven", "Beethoven, Ludwig van"), ("Martin Luther King Jr.", "King, Martin Luther, Jr."),
    ("José Ortega y Gasset", "Ortega y Gasset, José"), ("García Márquez, Gabriel", "García Márquez, Gabriel"),
    ("Terry Pratchett and Neil Gaiman", "Pratchett, Terry"), ("Homer", "Homer"),
    ("Vincent Van Gogh", "Gogh, Vincent Van")])
def test_authors_are_filed_by_surname(author, filed):
    assert author_filing_name(author) == filed


def test_authors_sort_by_surname_folded():
    names = ["Harper Lee", "Jane Austen", "Emily Brontë", "Charlotte Bronte", "Anna Leeds", "Stan Lee"]
    assert sorted(names, key=author_sort_key) == [
        "Jane Austen", "Charlotte Bronte", "Emily Brontë", "Harper Lee", "Stan Lee", "Anna Leeds"]


@pytest.mark.parametrize("authors, first", [
    ("J.K. Rowling, Mary GrandPré", "J.K. Rowling"), ("Tolkien, J. R. R.", "Tolkien, J. R. R."),
    ("Stephen King; Peter Straub", "Stephen King"), ("Martin Luther King, Jr.", "Martin Luther King, Jr."),
    # compound surnames written first stay whole; the names after them are other authors
    ("Le Guin, Ursula K.", "Le Guin, Ursula K."), ("de la Mare, Walter", "de la Mare, Walter"),
    ("van Gogh, Vincent, Ronald de Leeuw", "van Gogh, Vincent"), ("Du Maurier, Daphne", "Du Maurier, Daphne"),
    ("Tolkien, J.R.R., Christopher Tolkien", "Tolkien, J.R.R."),
    ("King, Martin Luther, Jr.", "King, Martin Luther, Jr."),
    ("Austen, Jane", "Austen, Jane"),
    # one word before the comma and a whole name after it: an author and a translator (goodbooks)
    ("Homer, Robert Fagles, Bernard Knox", "Homer"), ("Plato, G.M.A. Grube", "Plato"),
    # neither a particle ("Mac" is a given name as often) nor an initial in another script
    ("Mac Barnett, Jon Klassen", "Mac Barnett"), ("Tachibana Higuchi, 樋口 橘", "Tachibana Higuchi")])
def test_first_of_several_authors(authors, first):
    assert first_author(authors) == first


def test_a_file_that_writes_names_surname_first_keeps_each_whole():
    inverted = ["García Márquez, Gabriel", "Austen, Jane", "Tolkien, J. R. R.", "Doyle, Arthur Conan"]
    lists = ["J.K. Rowling, Mary GrandPré", "Homer, Robert Fagles", "Dr. Seuss, Various", "Suzanne Collins"]

    assert writes_surname_first(inverted) and not writes_surname_first(lists) and not writes_surname_first([])
    assert first_author("García Márquez, Gabriel") == "García Márquez"  # alone, as likely two authors
    assert first_author("García Márquez, Gabriel", surname_first=True) == "García Márquez, Gabriel"
    assert first_author("Pratchett, Terry, Gaiman, Neil", surname_first=True) == "Pratchett, Terry"


def test_the_search_document_weighs_title_author_subjects_description():
    document = search_document("Cien años de soledad", "Gabriel García Márquez", "9780060883287", ["Magic realism"],
                               "Macondo")
    assert document == ("'cien':1A 'anos':2A 'de':3A 'soledad':4A '9780060883287':5A 'gabriel':6B 'garcia':7B "
                        "'marquez':8B 'magic':9C 'realism':10C 'macondo':11D")


def test_quotes_in_words_cannot_break_out_of_a_query():
    assert prefix_tsquery(["it's", "x"], "AB") == "'it''s':*AB & 'x':*AB"
    assert prefix_tsquery([]) is None


def test_initials_are_also_indexed_joined_and_an_original_title_weighs_as_the_title():
    assert search_document("Harry Potter", "J. K. Rowling") == (
        "'harry':1A 'potter':2A 'j':3B 'k':4B 'rowling':5B 'jk':6B")
    assert search_document("The Stranger", "Albert Camus", original_title="L’Étranger") == (
        "'the':1A 'stranger':2A 'albert':3B 'camus':4B 'l':5A 'etranger':6A")
    assert search_document("Dune", "Frank Herbert", original_title="DUNE") == "'dune':1A 'frank':2B 'herbert':3B"
