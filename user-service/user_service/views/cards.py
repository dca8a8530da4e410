"""Library cards: the desk's lookup by scan, replacing a lost card, and a first password given at the desk to a
patron whom no mailed link can reach."""

from flask import request

from library_common.api import Blueprint
from library_common.clock import now

from .. import accounts, cards
from ..deps import deps
from ..schemas import DeskPasswordSchema, UserSchema

blp = Blueprint("cards", __name__, description="Library cards, and passwords given at the desk")


@blp.route("/cards/<number>")
@blp.librarian_required
@blp.response(200, UserSchema)
@blp.errors(404, 409)
def card_holder(number):
    """The account whose card this is (librarians; any letter case): 404 for no such card (a wrong check digit
    says a digit was mistyped), 409 for a card reported lost and replaced"""
    return cards.holder_of(number)


@blp.route("/users/<username:username>/card", methods=["POST"])
@blp.librarian_required
@blp.response(200, UserSchema)
@blp.errors(404)
def replace_card(username):
    """Replace a lost card (librarians): a new number; the old one is refused everywhere from now on. The expiry
    date stays (renew it with PATCH card_expires_on). An account without a card gets its first one"""
    return cards.replace_lost_card(username, now())


@blp.route("/users/<username:username>/card/renewal", methods=["POST"])
@blp.librarian_required
@blp.response(200, UserSchema)
@blp.errors(404)
def renew_card(username):
    """Renew a card (librarians): valid CARD_VALIDITY_DAYS from today. PATCH card_expires_on sets any other date"""
    return cards.renew(username, now(), deps().card_validity_days)


@blp.route("/users/<username:username>/desk-password", methods=["POST"])
@blp.librarian_required
@blp.response(201, DeskPasswordSchema)
@blp.errors(404, 409)
def give_desk_password(username):
    """A first password for a patron registered at the desk without an e-mail address (librarians), shown in this
    answer only, to hand over; 409 once the account has a password, or when it has an address (the welcome link
    goes there)"""
    given = accounts.give_desk_password(deps(), username)
    return given | {"message": f"Give {given['username']} this password; it will not be shown again"}


@blp.after_request
def never_store_a_password(response):
    """The answer that carries a password must not stay in any cache on the way."""
    if request.endpoint == "cards.give_desk_password":
        response.headers["Cache-Control"] = "no-store"
    return response
