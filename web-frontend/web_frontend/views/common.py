"""Small helpers the views share."""

import contextvars
from concurrent.futures import ThreadPoolExecutor

from flask import abort, render_template, request

from library_common.errors import DependencyUnavailable, OutcomeUnknown

from ..backend import BackendError
from ..deps import deps
from ..errors import is_htmx

MAX_PAGE = 100_000


def backend():
    return deps().backend


def attempt(action, activity):
    """Call a service for a person: (result, None), or (None, a message to show them inline).

    `activity` names what failed for the reader ("Borrowing", "The loans service"): the service's own refusal is shown
    as it says it, a service that cannot answer becomes "<activity> is unavailable right now", and a change
    whose answer never came says so, since it may have been made.
    """
    try:
        return action(), None
    except BackendError as error:
        return None, error.message
    except OutcomeUnknown:
        return None, (f"{activity} is unavailable right now: we could not confirm that it worked. "
                      "Please check My borrows before trying again.")
    except DependencyUnavailable:
        return None, f"{activity} is unavailable right now. Please try again in a moment."


def attempt_each(actions):
    """`attempt` for several services at once, each call in a thread of its own: {name: (result, None) or
    (None, message)} for `actions` {name: (action, activity)}. Each thread runs in a copy of this request's
    context, so the request id and the reader's address travel on as they do from the request itself; a session
    the services no longer accept ends the page as it would have anyway."""
    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        running = {name: pool.submit(contextvars.copy_context().run, attempt, action, activity)
                   for name, (action, activity) in actions.items()}
    return {name: future.result() for name, future in running.items()}


def page_or_fragment(page_template, fragment_template, target, **context):
    """The whole page, or just the fragment when htmx asks to refresh `target` (same template either way)."""
    if is_htmx() and request.headers.get("HX-Target") == target:
        return render_template(fragment_template, **context)
    return render_template(page_template, **context)


def apply_service_errors(form, error):
    """Show a service's per-field validation errors next to the form's fields; a message the form shows already
    (the form's own check said the same) is not shown twice."""
    for name, message in error.errors.items():
        shown = form[name].errors if name in form else form.form_errors
        if message not in shown:
            if name in form:
                form[name].errors = [*form[name].errors, message]  # a tuple until validation ran
            else:
                form.form_errors.append(message)
    if not error.errors and error.message not in form.form_errors:
        form.form_errors.append(error.message)


def status_of(*forms):
    """400 when a form on the page has errors to show, 200 otherwise."""
    return 400 if any(form.errors or form.form_errors for form in forms) else 200


def page_number():
    """The `page` query parameter, or 1 when it is missing or makes no sense."""
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_PAGE else 1


def or_404(fetch):
    """What `fetch()` reads from a service, or this site's 404 page when the service has no such thing."""
    try:
        return fetch()
    except BackendError as error:
        if error.status == 404:
            abort(404)
        raise


def book_or_404(book_id):
    return or_404(lambda: backend().book(book_id))
