from library_common.api import Blueprint

from .. import catalogue
from ..schemas import GenreSchema

blp = Blueprint("genres", __name__, description="Genres in the catalogue")


@blp.route("/genres")
@blp.response(200, GenreSchema(many=True))
def list_genres():
    """Every genre with its number of books"""
    return catalogue.genre_counts()
