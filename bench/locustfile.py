"""The benchmark's closed-loop clients (no think time), one scenario per run: SCENARIO=list|search|facets|
checkout|login|page, or skeleton-list|skeleton-search|skeleton-checkout against the floor."""

import itertools
import os
import random
import re

from locust import FastHttpUser, constant, task

from library_common.load_client import CheckedCalls

SCENARIO = os.environ["SCENARIO"]
URL = {name: os.environ.get(f"{name.upper()}_URL", "") for name in ("books", "users", "borrows", "web", "skeleton")}
BOOKS = int(os.environ["BENCH_BOOKS"])
USERS = int(os.environ["BENCH_USERS"])
CHECKOUT_PATRONS = 500
# The same pages at every scale (all 500 exist in the small catalogue), so growth compares like with
# like; how much deeper pages cost (OFFSET walks the index) is measured on its own in the README.
LIST_PAGES = 500
WORDS = os.environ["BENCH_WORDS"].split(",")
PASSWORD = "bench-password"
next_patron = itertools.count()


class Bench(CheckedCalls, FastHttpUser):
    wait_time = constant(0)
    host = URL["books"]
    ok = frozenset({200, 201, 204, 404, 409})

    def on_start(self):
        self.patron = f"bench{next(next_patron) % CHECKOUT_PATRONS}"
        if SCENARIO == "checkout":
            token = self.call("POST", f"{URL['users']}/login", "setup login",
                              json={"username": self.patron, "password": PASSWORD}).json()["token"]
            self.headers = {"Authorization": f"Bearer {token}"}
        if SCENARIO == "page":
            page = self.call("GET", f"{URL['web']}/login", "setup page").text
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            self.call("POST", f"{URL['web']}/login", "setup web login", ok={302}, allow_redirects=False,
                      data={"username": self.patron, "password": PASSWORD, "csrf_token": csrf})

    @task
    def run_scenario(self):
        book_id = random.randint(1, BOOKS)
        match SCENARIO:
            case "list":
                self.call("GET", f"{URL['books']}/books?page={random.randint(1, LIST_PAGES)}", "list")
            case "search":
                self.call("GET", f"{URL['books']}/books?q={random.choice(WORDS)}", "search")
            case "facets":  # a search's facets: counted over its matches (at most 5,000), not from the tally
                self.call("GET", f"{URL['books']}/books/facets?q={random.choice(WORDS)}", "facets")
            case "checkout":
                if self.call("POST", f"{URL['borrows']}/borrowbook", "borrow", json={"book_id": book_id},
                             headers=self.headers).status_code == 201:
                    self.call("POST", f"{URL['borrows']}/return", "return", json={"book_id": book_id},
                              headers=self.headers)
            case "login":
                self.call("POST", f"{URL['users']}/login", "login",
                          json={"username": f"bench{random.randrange(USERS)}", "password": PASSWORD})
            case "page":
                self.call("GET", f"{URL['web']}/?q={random.choice(WORDS)}", "catalogue page")
                self.call("GET", f"{URL['web']}/my/borrows", "my borrows page")
            case "skeleton-list":
                self.call("GET", f"{URL['skeleton']}/list?page={random.randint(1, LIST_PAGES)}", "list")
            case "skeleton-search":
                self.call("GET", f"{URL['skeleton']}/search?q={random.choice(WORDS)}", "search")
            case "skeleton-checkout":
                body = {"book_id": book_id, "username": self.patron}
                if self.call("POST", f"{URL['skeleton']}/borrow", "borrow", json=body).status_code == 201:
                    self.call("POST", f"{URL['skeleton']}/return", "return", json=body)
