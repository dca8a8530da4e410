"""Sign up, log in, log out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..backend import BackendError
from ..forms import LoginForm, SignupForm
from ..session import log_out, safe_next, start_session
from .common import apply_service_errors, backend

bp = Blueprint("account", __name__)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        fields = {name: form[name].data for name in ("username", "password", "first_name", "last_name")}
        try:
            backend().register(fields)
            token, user = backend().login(fields["username"], fields["password"])
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            start_session(token)
            flash(f"Welcome, {user['first_name']}! Your account is ready.", "success")
            return redirect(url_for("catalogue.index"))
    return render_template("signup.html", form=form), 400 if form.errors or form.form_errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            token, user = backend().login(form.username.data, form.password.data)
        except BackendError as error:
            form.form_errors.append(error.message)
        else:
            start_session(token)
            flash(f"Welcome back, {user['first_name']}.", "success")
            return redirect(safe_next(form.next.data))
    return render_template("login.html", form=form), 400 if form.errors or form.form_errors else 200


@bp.post("/logout")
def logout():
    if log_out():
        flash("You have logged out, here and on your other devices.", "info")
    else:
        flash("You have logged out here, but the account service could not be reached to end your sessions "
              "elsewhere. Log out again later to be sure.", "error")
    return redirect(url_for("catalogue.index"))
