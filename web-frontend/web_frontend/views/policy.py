"""The library's policy, for librarians: the circulation rules matrix (patron category × item type) and the
calendar of days the library is closed, both kept by borrow-service."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..backend import BackendError
from ..forms import WEEKDAYS, ClosureForm, ReopenForm, RuleCellForm, RuleForm
from ..formatting import nice_date
from ..session import for_librarians_only
from .common import apply_service_errors, attempt, backend

bp = Blueprint("policy", __name__, url_prefix="/manage/policy")
for_librarians_only(bp)
EVERY = ("*", "Every one (*)")


@bp.get("")
def policy(rule_form=None, closure_form=None, status=200):
    rule_form = rule_form or RuleForm()
    _offer_cells(rule_form)
    rules, rules_problem = attempt(lambda: backend().circulation_rules(current_user.token), "The circulation rules")
    calendar, calendar_problem = attempt(backend().calendar, "The calendar")
    return render_template("manage/policy.html", rules=rules or [], rules_problem=rules_problem,
                           calendar=calendar or {"weekdays": [], "days": []}, calendar_problem=calendar_problem,
                           rule_form=rule_form, closure_form=closure_form or ClosureForm(), weekdays=WEEKDAYS,
                           names=_names(rule_form), cell_form=RuleCellForm(), reopen_form=ReopenForm()), status


def _offer_cells(form):
    """The choices of the rule form: every category and type the library has, or * for every one."""
    categories, _ = attempt(lambda: backend().patron_categories(current_user.token), "The patron categories")
    types, _ = attempt(backend().item_types, "The item types")
    form.patron_category.choices = [EVERY, *((row["code"], row["name"]) for row in categories or [])]
    form.item_type.choices = [EVERY, *((row["code"], row["name"]) for row in types or [])]


def _names(form):
    """code -> name, for the rules table."""
    return {"patron_category": dict(form.patron_category.choices), "item_type": dict(form.item_type.choices)}


@bp.post("/rules")
def save_rule():
    form = RuleForm()
    _offer_cells(form)
    if form.validate_on_submit():
        try:
            saved = backend().save_rule(current_user.token, form.patron_category.data, form.item_type.data,
                                        form.rule_fields())
        except BackendError as refused:
            apply_service_errors(form, refused)
        else:
            flash(f"Saved the rule for {saved['key']}: new loans go by it.", "success")
            return redirect(url_for("policy.policy"))
    return policy(rule_form=form, status=400)


@bp.post("/rules/delete")
def delete_rule():
    form = RuleCellForm()
    if form.validate_on_submit():
        _done, problem = attempt(lambda: backend().delete_rule(current_user.token, form.patron_category.data,
                                                               form.item_type.data) or True, "The circulation rules")
        key = f"{form.patron_category.data} × {form.item_type.data}"
        flash(problem or f"Deleted the rule for {key}: its loans go by the next wider rule.",
              "error" if problem else "success")
    return redirect(url_for("policy.policy"))


@bp.post("/closures")
def close():
    form = ClosureForm()
    if form.validate_on_submit():
        added, problem = attempt(lambda: backend().close_library(current_user.token, form.closure()), "The calendar")
        if added is not None:
            flash(_closed_message(added), "success")
            return redirect(url_for("policy.policy"))
        form.form_errors.append(problem)
    return policy(closure_form=form, status=400)


def _closed_message(added):
    if not added:
        return "Those days were closed already."
    if added[0].get("weekday") is not None:
        return f"Closed every {WEEKDAYS[added[0]['weekday']]}: due dates from now on skip it."
    days = ", ".join(nice_date(row["day"]) for row in added[:3]) + (f" and {len(added) - 3} more"
                                                                      if len(added) > 3 else "")
    return f"Closed on {days}: due dates and pickup deadlines from now on skip {'them' if len(added) > 1 else 'it'}."


@bp.post("/closures/<int:closure_id>/reopen")
def reopen(closure_id):
    if ReopenForm().validate_on_submit():
        _done, problem = attempt(lambda: backend().reopen_library(current_user.token, closure_id) or True,
                                 "The calendar")
        flash(problem or "Open again on that day.", "error" if problem else "success")
    return redirect(url_for("policy.policy"))
