"""The soak's workload: patrons browse, search, borrow, renew and return; librarians add books and
watch the loans desk. Hosts come from the environment (BOOKS_URL, USERS_URL, BORROWS_URL, WEB_URL).
409 (no copy free, already holding it, at the limit) is an ordinary answer here, not a failure;
any 5xx, timeout or broken connection is."""

import os
import random
import uuid

from locust import HttpUser, between, task

from library_common.load_client import CheckedCalls

BOOKS, USERS, BORROWS, WEB = (os.environ[name] for name in ("BOOKS_URL", "USERS_URL", "BORROWS_URL", "WEB_URL"))
LIBRARIAN = os.environ["SOAK_LIBRARIAN"].split(":", 1)
WORDS = ["hitch", "galaxy", "dune", "emma", "war", "peace", "night", "garden", "river", "stone", "fire", "sea"]


class LibraryUser(CheckedCalls, HttpUser):
    abstract = True
    host = BOOKS

    def log_in(self, username, password):
        response = self.call("POST", f"{USERS}/login", "POST /login",
                             json={"username": username, "password": password},
                             headers={"X-Forwarded-For": f"198.51.100.{random.randint(1, 250)}"})
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def some_book(self):
        response = self.call("GET", f"{BOOKS}/books?page={random.randint(1, 3)}", "GET /books?page")
        books = response.json() if response.status_code == 200 else []
        return random.choice(books)["id"] if books else None


class Patron(LibraryUser):
    weight = 9
    wait_time = between(0.2, 1.0)

    def on_start(self):
        username = f"soak-{uuid.uuid4().hex[:10]}"
        self.call("POST", f"{USERS}/register", "POST /register", json={
            "username": username, "password": "soaking-password", "first_name": "Soak", "last_name": "Tester"})
        self.headers = self.log_in(username, "soaking-password")

    @task(5)
    def browse(self):
        self.some_book()

    @task(5)
    def search(self):
        self.call("GET", f"{BOOKS}/books?q={random.choice(WORDS)}", "GET /books?q")

    @task(2)
    def catalogue_page(self):
        self.call("GET", f"{WEB}/?q={random.choice(WORDS)}", "GET web /?q")

    @task(3)
    def borrow_and_maybe_return(self):
        book_id = self.some_book()
        if book_id is None:
            return
        response = self.call("POST", f"{BORROWS}/borrowbook", "POST /borrowbook", json={"book_id": book_id},
                             headers=self.headers)
        if response.status_code == 201 and random.random() < 0.8:
            self.call("POST", f"{BORROWS}/return", "POST /return", json={"book_id": book_id}, headers=self.headers)

    @task(2)
    def my_loans(self):
        response = self.call("GET", f"{BORROWS}/borrows?active=true", "GET /borrows", headers=self.headers)
        loans = response.json() if response.status_code == 200 else []
        if loans:
            loan = random.choice(loans)
            if random.random() < 0.5:
                self.call("POST", f"{BORROWS}/borrows/{loan['id']}/renew", "POST /borrows/id/renew",
                          headers=self.headers)
            else:
                self.call("POST", f"{BORROWS}/return", "POST /return", json={"book_id": loan["book_id"]},
                          headers=self.headers)


class Librarian(LibraryUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        self.headers = self.log_in(*LIBRARIAN)

    @task(2)
    def add_book(self):
        word = random.choice(WORDS)
        self.call("POST", f"{BOOKS}/books", "POST /books", headers=self.headers, json={
            "title": f"The {word.title()} {uuid.uuid4().hex[:6]}", "author": "S. Oak", "genre": word.title(),
            "copies": random.randint(1, 3)})

    @task(3)
    def loans_desk(self):
        self.call("GET", f"{BORROWS}/borrows?active=true", "GET /borrows (desk)", headers=self.headers)

    @task(1)
    def overdue(self):
        self.call("GET", f"{BORROWS}/borrows?overdue=true", "GET /borrows?overdue", headers=self.headers)
