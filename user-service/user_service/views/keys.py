from library_common.api import Blueprint

from ..schemas import JwksSchema
from ..deps import deps

blp = Blueprint("keys", __name__, description="Public keys that verify tokens")


@blp.route("/.well-known/jwks.json")
@blp.response(200, JwksSchema)
def jwks():
    """The JSON Web Key Set other services verify tokens with"""
    return deps().key_store.jwks()
