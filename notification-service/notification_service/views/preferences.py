"""How a patron wants to hear about each kind of thing: by e-mail, in the app, or both."""

from flask import current_app

from library_common.api import Blueprint
from library_common.auth import current_principal

from .. import notices
from ..schemas import PreferenceSchema, PreferencesInputSchema

blp = Blueprint("preferences", __name__, description="Your notification preferences")


@blp.route("/preferences")
@blp.login_required
@blp.response(200, PreferenceSchema(many=True))
def preferences():
    """Your channel for each kind of notice ('both' unless you chose otherwise)"""
    return notices.preferences_of(current_principal().username, current_app.config["SEND_RECEIPTS"])


@blp.route("/preferences", methods=["PUT"])
@blp.login_required
@blp.arguments(PreferencesInputSchema)
@blp.response(200, PreferenceSchema(many=True))
def choose(request_body):
    """Choose channels per kind; a ready hold is always shown in the app, changes to your account always mailed"""
    return notices.choose(current_principal().username, request_body["choices"], current_app.config["SEND_RECEIPTS"])
