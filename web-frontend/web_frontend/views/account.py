"""Sign up, log in, log out; your account (names, e-mail address, password, reading history); "forgot password"
and the pages the mailed links open (confirm an address, choose a password)."""

from functools import wraps

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from library_common.errors import DependencyUnavailable

from ..backend import BackendError
from ..forms import (EmailForm, ForgotPasswordForm, LoginForm, NamesForm, PasswordChangeForm, ResetPasswordForm,
                     SignupForm, VerifyEmailForm)
from ..labels import code128_data_uri
from ..session import end_session, log_out, renew_session, safe_next, start_session
from .common import apply_service_errors, attempt, backend, status_of
from .notifications import preferences_context

bp = Blueprint("account", __name__)
INCOMPLETE_LINK = "This link is incomplete: copy the whole link from the e-mail into the address bar"


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:  # one account per reader: signing up again would sign them out of this one
        flash(f"You are signed in as {current_user.username}. To make another account, log out first.", "info")
        return redirect(url_for("catalogue.index"))
    form = SignupForm()
    if form.validate_on_submit():
        fields = {name: form[name].data for name in ("username", "password", "first_name", "last_name")}
        if form.email.data:
            fields["email"] = form.email.data
        try:
            backend().register(fields)
            token, user = backend().login(fields["username"], fields["password"])
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            start_session(token)
            flash(welcome(user, fields.get("email")), "success")
            return redirect(url_for("catalogue.index"))
    return render_template("signup.html", form=form), status_of(form)


def welcome(user, email):
    """What a new reader is told after signing up: what they may do now, and (an account registered online is
    provisional) what lets them borrow."""
    sent = f" We have sent a link to {email}: open it to confirm your address." if email else ""
    if not user.get("provisional"):
        return f"Welcome, {user['first_name']}! Your account is ready.{sent}"
    if user.get("awaiting") == "librarian_approval":
        return (f"Welcome, {user['first_name']}! You can place holds now, and borrow once a librarian has approved "
                f"your account (ask at the desk).{sent}")
    if email:
        return (f"Welcome, {user['first_name']}! You can place holds now.{sent} Once it is confirmed you can "
                "borrow too.")
    return (f"Welcome, {user['first_name']}! You can place holds now. To borrow, add an e-mail address on your "
            "account and confirm it, or ask at the desk.")


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
    return render_template("login.html", form=form), status_of(form)


@bp.post("/logout")
def logout():
    if log_out():
        flash("You have logged out.", "info")
    else:
        flash("You have logged out in this browser, but the account service could not be reached to end the "
              "session. If this is a shared computer, close the browser too.", "error")
    return redirect(url_for("catalogue.index"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    if log_out(everywhere=True):
        flash("You have logged out everywhere: on this device and every other one.", "info")
    else:
        flash("You have logged out here, but the account service could not be reached to end your sessions "
              "elsewhere. Log in and choose Log out everywhere again later to be sure.", "error")
    return redirect(url_for("catalogue.index"))


# ---- your account ---------------------------------------------------------------------------------------------


def account_page(names_form=None, email_form=None, password_form=None):
    """The account page, with the form just sent (and its errors) or each form fresh."""
    token, username = current_user.token, current_user.username
    account = backend().user(token, username)
    circulation, history_problem = attempt(lambda: backend().patron(token, username), "The loans service")
    forms = {
        "names_form": names_form or NamesForm(prefix="names", formdata=None, data=account),
        "email_form": email_form or EmailForm(prefix="email", formdata=None, data={"email": account["email"]}),
        "password_form": password_form or PasswordChangeForm(prefix="password", formdata=None),
    }
    card = account.get("card_number")
    return render_template("account/account.html", account=account, history_problem=history_problem,
                           card_barcode=code128_data_uri(card) if card else None,
                           keep_history=bool(circulation and circulation["keep_history"]),
                           **preferences_context(), **forms), status_of(*forms.values())


def change_account(form, changes):
    """The account after `changes`, or None with the service's reasons shown on `form`."""
    try:
        return backend().change_account(current_user.token, current_user.username, changes)
    except BackendError as error:
        apply_service_errors(form, error)
        return None


@bp.get("/account")
@login_required
def account():
    return account_page()


@bp.post("/account/names")
@login_required
def change_names():
    form = NamesForm(prefix="names")
    if form.validate_on_submit() and change_account(form, {"first_name": form.first_name.data,
                                                           "last_name": form.last_name.data}):
        flash("Your name is saved.", "success")
        return redirect(url_for("account.account"))
    return account_page(names_form=form)


@bp.post("/account/email")
@login_required
def change_email():
    form = EmailForm(prefix="email")
    if form.validate_on_submit():
        address = form.email.data.strip() or None
        if address == backend().user(current_user.token, current_user.username)["email"]:
            flash("That is your address already.", "info")
            return redirect(url_for("account.account") + "#email")
        changed = change_account(form, {"email": address, "current_password": form.current_password.data})
        if changed:
            flash(email_news(changed), "success")
            return redirect(url_for("account.account") + "#email")
    return account_page(email_form=form)


def email_news(account):
    if account["email"] is None:
        return "Your e-mail address is removed."
    if account.get("pending_email"):
        return (f"We have sent a link to {account['pending_email']}: open it to make it your address. Until then "
                f"we keep writing to {account['email']}.")
    if account["email_verified"]:
        return "Your e-mail address is saved."
    return f"We have sent a link to {account['email']}: open it to confirm your address."


@bp.post("/account/email/verification")
@login_required
def resend_verification():
    sent, problem = attempt(lambda: backend().resend_verification(current_user.token, current_user.username),
                            "The account service")
    flash(f"{sent['message']}: open it to confirm your address." if sent else problem,
          "success" if sent else "error")
    return redirect(url_for("account.account") + "#email")


@bp.post("/account/password")
@login_required
def change_password():
    """A password change ends every session of the account, this one too; the reader is logged in again with
    the new password, so only their other devices are logged out."""
    form = PasswordChangeForm(prefix="password")
    if form.validate_on_submit() and change_account(form, {"password": form.password.data,
                                                           "current_password": form.current_password.data}):
        try:
            renew_session(current_user.username, form.password.data)
        except (BackendError, DependencyUnavailable):
            end_session()
            flash("Your password is changed. Please log in with it.", "success")
            return redirect(url_for("account.login", next=url_for("account.account")))
        flash("Your password is changed, and you are logged out on your other devices.", "success")
        return redirect(url_for("account.account"))
    return account_page(password_form=form)


# ---- links from e-mails, and forgotten passwords --------------------------------------------------------------


def opened_by_a_mailed_link(view):
    """A page a mailed link opens (`?token=…`). On arrival the token moves into the signed session and the page
    loads again without it, before anything else is loaded, so it stays out of access logs, the browser's history
    and Referer headers; the page takes it from the session (`link_token()`). Nor does the page tell another site
    its address."""

    @wraps(view)
    def wrapper():
        if request.method == "GET" and "token" in request.args:
            session[_link_token_key()] = request.args["token"]
            response = redirect(url_for(request.endpoint), 303)
        else:
            response = make_response(view())
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _link_token_key():
    return f"{request.endpoint}.token"  # one per page: a verification and a password link may be open at once


def link_token():
    return session.get(_link_token_key(), "")


def forget_link_token():
    """The link did its work: its token is no use any more, so the session stops carrying it."""
    session.pop(_link_token_key(), None)


@bp.route("/account/verify", methods=["GET", "POST"])
@opened_by_a_mailed_link
def verify_email():
    """The verification link opens this page; its button confirms. A GET changes nothing, so mail scanners
    that open every link cannot confirm an address for its reader."""
    form = VerifyEmailForm(token=link_token())
    problem = None if form.token.data else INCOMPLETE_LINK
    if form.validate_on_submit() and form.token.data:
        try:
            verified = backend().verify_email(form.token.data)
        except BackendError as error:
            problem = error.errors.get("token", error.message)
        else:
            forget_link_token()
            flash(f"Thank you: {verified['email']} is confirmed as your e-mail address.", "success")
            return redirect(url_for("account.account") if current_user.is_authenticated
                            else url_for("catalogue.index"))
    return render_template("account/verify.html", form=form, problem=problem), 400 if problem else 200


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            answer = backend().request_password_reset(form.username_or_email.data.strip())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"{answer['message']}. It can take a few minutes to arrive: look in your spam folder too.",
                  "success")
            return redirect(url_for("account.login"))
    return render_template("account/forgot_password.html", form=form), status_of(form)


def password_link_problem(token):
    """Why a password link can no longer set a password (used, expired, the account deactivated), or None. Asked
    before the form is shown, so nobody types a new password twice to hear the link was dead. When
    user-service cannot say (busy, unreachable), the form is shown: choosing the password checks again."""
    try:
        backend().check_password_link(token)
    except BackendError as error:
        if error.status in (400, 403):
            return error.errors.get("token", error.message)
    except DependencyUnavailable:
        pass
    return None


@bp.route("/reset-password", methods=["GET", "POST"])
@opened_by_a_mailed_link
def reset_password():
    """The password link opens this page (a forgotten password, a librarian's reset, or a new patron's first)."""
    form = ResetPasswordForm(token=link_token())
    if request.method == "GET" and form.token.data:
        dead_link = password_link_problem(form.token.data)
        if dead_link:
            form.token.errors = [dead_link]
            return render_template("account/reset_password.html", form=form, dead_link=True), 400
    if form.validate_on_submit():
        try:
            backend().reset_password(form.token.data, form.password.data)
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            forget_link_token()
            flash("Your new password is set: log in with it.", "success")
            return redirect(url_for("account.login"))
    if not form.token.data:
        form.token.errors = [INCOMPLETE_LINK]
    return render_template("account/reset_password.html", form=form), status_of(form)
