"""The controlled list of genres: found or added as books are filed, renamed, merged and (when empty) deleted by
librarians."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from library_common import audit
from library_common.errors import BadRequest, Conflict, found
from library_common.search_text import name_key
from library_common.transactions import transaction

from .models import Book, FacetCount, Genre, db


def genre_key(name):
    """What makes two genre names the same genre: case, accents, spacing and punctuation do not count
    ("Science Fiction", "science  fiction", "Science-Fiction")."""
    return name_key(name)


def find_genre(name):
    return db.session.scalar(sa.select(Genre).where(Genre.key == genre_key(name)))


def genre_for_filing(name):
    """The name a book is filed under: an existing genre that differs from `name` only in case, spacing or
    punctuation, or `name` itself, added to the list. Call inside the book's transaction."""
    key = genre_key(name)
    filed = sa.select(Genre.name).where(Genre.key == key)
    # FOR KEY SHARE: a librarian deleting this genre now (delete_genre, FOR UPDATE) waits for this book and then
    # counts it, or has deleted it and this finds no genre and adds it again; never a book without its genre
    existing = db.session.scalar(filed.with_for_update(read=True, key_share=True))
    if existing is not None:
        return existing
    # ON CONFLICT: a concurrent request may add the same new genre a moment before us
    db.session.execute(insert(Genre).values(name=name, key=key).on_conflict_do_nothing())
    return db.session.scalar(filed)


def _with_count(genre):
    count = db.session.scalar(sa.select(FacetCount.books).where(FacetCount.facet == "genre",
                                                                 FacetCount.value == genre.name))
    return {"id": genre.id, "genre": genre.name, "count": count or 0}


def list_genres():
    """Every genre in the list, by name, with its number of books (from the tally; none: 0)."""
    rows = db.session.execute(
        sa.select(Genre.id, Genre.name, sa.func.coalesce(FacetCount.books, 0))
        .outerjoin(FacetCount, sa.and_(FacetCount.facet == "genre", FacetCount.value == Genre.name))
        .order_by(Genre.key, Genre.name))
    return [{"id": genre_id, "genre": name, "count": count} for genre_id, name, count in rows]


def _get(genre_id):
    return found(db.session.get(Genre, genre_id), f"No genre with id {genre_id}")


def _refuse_near_duplicate(name, except_id=None, advice=""):
    existing = find_genre(name)
    if existing is not None and existing.id != except_id:
        raise Conflict(f"The genre “{existing.name}” already exists"
                       + ("" if existing.name == name else " (it differs only in case, spacing or punctuation)")
                       + advice, errors={"name": f"Already in the list as “{existing.name}”"})


def add_genre(name):
    _refuse_near_duplicate(name)
    with transaction():
        genre = Genre(name=name, key=genre_key(name))
        db.session.add(genre)
        db.session.flush()
        audit.record("genre.created", genre.id, summary=name, changes={"name": {"after": name}})
    return _with_count(genre)


def rename_genre(genre_id, name):
    """Rename a genre and every book filed under it; a name another genre already has is refused (merge instead)."""
    genre = _get(genre_id)
    _refuse_near_duplicate(name, except_id=genre_id, advice=": to file these books under it, merge into it instead")
    with transaction():
        audit.record("genre.renamed", genre.id, summary=name,
                     changes=audit.changes({"name": genre.name}, {"name": name}))
        genre.name, genre.key = name, genre_key(name)  # books follow: ON UPDATE CASCADE
    return _with_count(genre)


def merge_genres(genre_id, into_id):
    """File every book of one genre under another, and remove the first from the list."""
    if genre_id == into_id:
        raise Conflict("A genre cannot be merged into itself")
    genre, into = _get(genre_id), db.session.get(Genre, into_id)
    if into is None:  # the genre named in the body, not the one in the address: the request is wrong
        raise BadRequest(f"No genre with id {into_id} to merge into", errors={"into": "No such genre"})
    with transaction():
        moved = db.session.execute(sa.update(Book).where(Book.genre == genre.name).values(genre=into.name)).rowcount
        audit.record("genre.merged", genre.id, summary=f"{genre.name} into {into.name}", related=f"genre:{into.id}",
                     changes={"genre": {"before": genre.name, "after": into.name}, "books": {"after": moved}})
        db.session.delete(genre)
    return _with_count(into)


def delete_genre(genre_id):
    """Remove a genre no book is filed under; 409 while books are (merge it into another genre instead). The
    genre's row is locked first: a book being filed under it at that moment (genre_for_filing) is counted, or
    adds the genre again once it is gone."""
    with transaction():
        genre = found(db.session.get(Genre, genre_id, with_for_update=True), f"No genre with id {genre_id}")
        books = db.session.scalar(sa.select(sa.func.count()).select_from(Book).where(Book.genre == genre.name))
        if books:
            raise Conflict(f"{books:,} book{'s are' if books != 1 else ' is'} filed under “{genre.name}”: merge it "
                           "into another genre to remove it from the list")
        audit.record("genre.deleted", genre.id, summary=genre.name, changes={"name": {"before": genre.name}})
        db.session.delete(genre)
