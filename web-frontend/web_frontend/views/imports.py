"""Librarians import records in bulk: upload a file, watch it being staged (a progress bar that moves by
itself with htmx, or as the page refreshes without JavaScript), look at what it holds, read a CSV's first row
as a record or as column names, map its columns, commit, revert a committed import, and discard one that was
never committed."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..backend import BackendError
from ..errors import is_htmx
from ..forms import ImportCommitForm, ImportForm
from ..session import for_librarians_only
from .common import apply_service_errors, attempt, backend, or_404, page_number, status_of

bp = Blueprint("imports", __name__, url_prefix="/manage/imports")
for_librarians_only(bp)
RUNNING = ("staging", "committing", "reverting")
# An import can be discarded until it is committed (books-service refuses it after, and while it is being read).
DISCARDABLE = ("staged", "failed")
OUTCOMES = {"new": "New books", "match": "Already in the catalogue", "invalid": "Cannot be imported"}
# What a CSV column may be mapped to (books-service's import fields), for the mapping step.
FIELDS = [("", "Leave out"), ("title", "Title"), ("original_title", "Original title"), ("author", "Author"),
          ("isbn", "ISBN"), ("isbn13", "ISBN-13"), ("year", "Publication year"), ("genre", "Genre"),
          ("language", "Language"), ("copies", "Copies"), ("description", "Description"),
          ("subjects", "Subjects (separated by ; or |)"), ("cover_url", "Cover image address"),
          ("popularity", "Popularity (ratings or loans: ranks searches)")]


@bp.context_processor
def import_states():
    """The pages poll while an import is RUNNING and offer to discard one that is DISCARDABLE."""
    return {"RUNNING": RUNNING, "DISCARDABLE": DISCARDABLE}


@bp.route("", methods=["GET", "POST"])
def imports():
    form = ImportForm()
    if form.validate_on_submit():
        options = {"copies": str(form.copies.data), "genre": form.genre.data.strip(), "on_match": form.on_match.data}
        if form.format.data:
            options["format"] = form.format.data
        try:
            created = backend().upload_import(current_user.token, form.file.data, options)
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            return redirect(url_for("imports.batch", import_id=created["id"]))
    found, problem = attempt(lambda: backend().imports(current_user.token, page=page_number()), "The catalogue")
    return render_template("manage/imports.html", form=form, imports=found, problem=problem), \
        status_of(form)


def import_or_404(import_id):
    return or_404(lambda: backend().import_(current_user.token, import_id))


@bp.get("/<int:import_id>")
def batch(import_id):
    found = import_or_404(import_id)
    outcome = request.args.get("outcome") if request.args.get("outcome") in OUTCOMES else None
    if outcome is None and found["status"] not in RUNNING:
        outcome = "invalid" if found["counts"].get("invalid") and not found["counts"].get("new") else None
    records = None if found["status"] in RUNNING else backend().import_records(
        current_user.token, import_id, outcome, page=page_number())
    return render_template("manage/import.html", batch=found, records=records, outcome=outcome, outcomes=OUTCOMES,
                           fields=FIELDS, commit_form=ImportCommitForm(on_match=found["options"].get("on_match")))


@bp.get("/<int:import_id>/progress")
def progress(import_id):
    """The status panel, for htmx to poll while the worker is at it; once it is done, the whole page again."""
    found = import_or_404(import_id)
    if is_htmx() and found["status"] not in RUNNING:
        return "", 200, {"HX-Refresh": "true"}
    if not is_htmx():
        return redirect(url_for("imports.batch", import_id=import_id))
    return render_template("manage/_import_status.html", batch=found)


@bp.post("/<int:import_id>/mapping")
def mapping(import_id):
    columns = import_or_404(import_id).get("columns") or []
    chosen = {column: request.form.get(f"column-{index}") or None for index, column in enumerate(columns)}
    _, problem = attempt(lambda: backend().restage_import(current_user.token, import_id, chosen), "The catalogue")
    flash(problem or "Staging again with your columns.", "error" if problem else "success")
    return redirect(url_for("imports.batch", import_id=import_id))


@bp.post("/<int:import_id>/first-row")
def first_row(import_id):
    """Stage again with the first row read as a record (header=false: the columns by their place) or as names."""
    header = request.form.get("header") != "false"
    _, problem = attempt(lambda: backend().restage_import(current_user.token, import_id, header=header),
                         "The catalogue")
    flash(problem or ("Reading the first row as column names." if header else
                      "Reading the first row as a record: say which column holds what."),
          "error" if problem else "success")
    return redirect(url_for("imports.batch", import_id=import_id))


@bp.post("/<int:import_id>/commit")
def commit(import_id):
    form = ImportCommitForm()
    if not form.validate_on_submit():
        flash("Choose what to do with records already in the catalogue.", "error")
        return redirect(url_for("imports.batch", import_id=import_id))
    _, problem = attempt(lambda: backend().commit_import(current_user.token, import_id, form.on_match.data),
                         "The catalogue")
    flash(problem or "Adding the records to the catalogue.", "error" if problem else "success")
    return redirect(url_for("imports.batch", import_id=import_id))


@bp.route("/<int:import_id>/revert", methods=["GET", "POST"])
def revert(import_id):
    """Asks first (a plain page), then reverts."""
    found = import_or_404(import_id)
    if request.method == "GET":
        return render_template("manage/confirm_revert.html", batch=found)
    _, problem = attempt(lambda: backend().revert_import(current_user.token, import_id), "The catalogue")
    flash(problem or "Reverting the import.", "error" if problem else "success")
    return redirect(url_for("imports.batch", import_id=import_id))


@bp.route("/<int:import_id>/discard", methods=["GET", "POST"])
def discard(import_id):
    """Asks first (a plain page), then discards the import with its staged records."""
    found = import_or_404(import_id)
    if request.method == "GET":
        return render_template("manage/confirm_discard.html", batch=found)
    _, problem = attempt(lambda: backend().discard_import(current_user.token, import_id), "The catalogue")
    if problem:
        flash(problem, "error")
        return redirect(url_for("imports.batch", import_id=import_id))
    flash(f"The import of {found['filename']} was discarded; nothing of it reached the catalogue.", "success")
    return redirect(url_for("imports.imports"))
