"""Bulk import for librarians: upload a file (staged by the worker), look at what it holds, map a CSV's
columns, commit it, revert it, or discard it before committing."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.pagination import PageArgs, offset

from .. import imports, jobs
from ..schemas import (ImportCommitSchema, ImportFileSchema, ImportRecordSchema, ImportRecordsArgs,
                       ImportRestageSchema, ImportSchema, ImportUploadSchema)

blp = Blueprint("imports", __name__, description="Bulk import of records (CSV, MARC), staged before commit")


@blp.route("/imports", methods=["POST"])
@blp.librarian_required
@blp.arguments(ImportUploadSchema, location="form")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(202, ImportSchema)
@blp.errors(415)
@blp.rate_limited("imports")
@blp.accepts_upload("IMPORT_MAX_BYTES")
def upload(form, files):
    """Upload a file of records (multipart: `file`, and `format`, `on_match`, `copies`, `genre`); it is staged
    in the background: follow `status` and `done` of `total` at GET /imports/<id>"""
    upload = files["file"]
    options = {key: form[key] for key in ("on_match", "copies", "genre", "header") if key in form}
    created = imports.create(upload.filename or "upload", upload.read(), form.get("format"), options,
                             current_principal().username)
    jobs.start_soon()
    return created


@blp.route("/imports")
@blp.librarian_required
@blp.paginated(PageArgs, ImportSchema)
def list_imports(args):
    """Every import, newest first"""
    return imports.list_imports(offset(args), args["per_page"])


@blp.route("/imports/<id:import_id>")
@blp.librarian_required
@blp.response(200, ImportSchema)
@blp.errors(404)
def get_import(import_id):
    """One import: its status, progress and counts"""
    return imports.get(import_id)


@blp.route("/imports/<id:import_id>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409)
def discard(import_id):
    """Discard an import that was never committed, with its file and staged records; 409 while it is being read
    (staging) and once committed (revert it instead: it stays as the record of what it did)"""
    imports.discard(import_id)


@blp.route("/imports/<id:import_id>/records")
@blp.librarian_required
@blp.paginated(ImportRecordsArgs, ImportRecordSchema)
@blp.errors(404)
def list_records(args, import_id):
    """The import's records in file order (`outcome`: new, match or invalid), with what staging found"""
    return imports.records(import_id, args.get("outcome"), offset(args), args["per_page"])


@blp.route("/imports/<id:import_id>/staging", methods=["POST"])
@blp.librarian_required
@blp.arguments(ImportRestageSchema, required=False)
@blp.response(202, ImportSchema)
@blp.errors(404, 409)
def restage(changes, import_id):
    """Stage again, with a CSV column mapping or other options (only before the commit); no body: as before"""
    changes = dict(changes or {})
    mapping = changes.pop("mapping", None)
    restaged = imports.restage(import_id, mapping, changes)
    jobs.start_soon()
    return restaged


@blp.route("/imports/<id:import_id>/commit", methods=["POST"])
@blp.librarian_required
@blp.arguments(ImportCommitSchema, required=False)
@blp.response(202, ImportSchema)
@blp.errors(404, 409)
def commit(choice, import_id):
    """Add the staged records to the catalogue (in the background); 409 unless staged"""
    started = imports.start_commit(import_id, (choice or {}).get("on_match"))
    jobs.start_soon()
    return started


@blp.route("/imports/<id:import_id>/revert", methods=["POST"])
@blp.librarian_required
@blp.response(202, ImportSchema)
@blp.errors(404, 409)
def revert(import_id):
    """Undo a committed import (in the background): the books it created and the copies it added go, except
    any with a copy out or patrons waiting; 409 unless committed"""
    started = imports.start_revert(import_id)
    jobs.start_soon()
    return started
