"""Browser tests: Playwright driving Debian's Chromium against the running system (the `stack` fixture)."""

import os
import uuid
from pathlib import Path

import pytest
import requests

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parent / "screenshots"))
PASSWORD = "reading-is-fun"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium, or set CHROMIUM_PATH")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # Without the background-networking flags Chromium keeps trying to reach outside hosts.
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def base_url(stack):
    return stack.web


@pytest.fixture
def unique():
    """A fresh word per test: tests share one running system, so their data must not collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def librarian_api(stack):
    return stack.login(*stack.librarian)


@pytest.fixture
def add_book(stack, librarian_api):
    def add(title, copies=1, **fields):
        body = {"title": title, "author": "E. Tester", "genre": "Testing", "copies": copies, **fields}
        response = requests.post(f"{stack.books}/books", json=body, headers=librarian_api, timeout=10)
        response.raise_for_status()
        return response.json()

    return add


@pytest.fixture
def patron(stack, unique):
    """A registered patron, approved so it may borrow (made through the API; the sign-up form has its own test)."""
    username = f"reader-{unique}"
    requests.post(f"{stack.users}/register", timeout=10, json={
        "username": username, "password": PASSWORD, "first_name": "Rita", "last_name": "Reader"}).raise_for_status()
    return stack.approve(username)


@pytest.fixture
def named_patron(stack, unique):
    """Register a patron with the names given; returns the username."""
    def register(first_name="Rita", last_name="Reader", prefix="reader"):
        username = f"{prefix}-{unique}-{uuid.uuid4().hex[:4]}"
        requests.post(f"{stack.users}/register", timeout=10, json={
            "username": username, "password": PASSWORD, "first_name": first_name,
            "last_name": last_name}).raise_for_status()
        return stack.approve(username)

    return register


def log_in(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Signed in as {username}").wait_for()


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
