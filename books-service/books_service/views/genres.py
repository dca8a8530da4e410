"""The controlled list of genres: everyone reads it, librarians add, rename, merge and delete empty ones."""

from library_common.api import Blueprint

from .. import genres
from ..schemas import GenreMergeSchema, GenreNameSchema, GenreSchema

blp = Blueprint("genres", __name__, description="Genres in the catalogue")


@blp.route("/genres")
@blp.response(200, GenreSchema(many=True))
def list_genres():
    """Every genre in the list with its number of books"""
    return genres.list_genres()


@blp.route("/genres", methods=["POST"])
@blp.librarian_required
@blp.arguments(GenreNameSchema)
@blp.response(201, GenreSchema)
@blp.errors(409)
def add_genre(fields):
    """Add a genre (librarians); 409 when one differing only in case, spacing or punctuation exists"""
    return genres.add_genre(fields["name"])


@blp.route("/genres/<id:genre_id>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(GenreNameSchema)
@blp.response(200, GenreSchema)
@blp.errors(404, 409)
def rename_genre(fields, genre_id):
    """Rename a genre and its books (librarians); 409 when another genre has that name (merge instead)"""
    return genres.rename_genre(genre_id, fields["name"])


@blp.route("/genres/<id:genre_id>/merge", methods=["POST"])
@blp.librarian_required
@blp.arguments(GenreMergeSchema)
@blp.response(200, GenreSchema)
@blp.errors(404, 409)
def merge_genre(fields, genre_id):
    """File a genre's books under another genre (`into`) and remove it from the list (librarians)"""
    return genres.merge_genres(genre_id, fields["into"])


@blp.route("/genres/<id:genre_id>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409)
def delete_genre(genre_id):
    """Remove a genre no book is filed under (librarians); 409 while books are (merge it instead)"""
    genres.delete_genre(genre_id)
