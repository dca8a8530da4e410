"""The architecture's floor: the same hops as the product with no business logic.

Two Flask apps under the same gunicorn configuration (SKELETON_ROLE=front|back). Each front request
makes the same SQL round trips and the same service-to-service call as the product's endpoint,
written as bare psycopg2 queries on the very same tables: no ORM, no schemas, no auth.
"""

import os
import re

import psycopg2.pool
import requests
from flask import Flask, jsonify, request

SOCKET_DIR = os.environ["SKELETON_DB_HOST"]
BACK = os.environ.get("SKELETON_BACK_URL", "")
pools = {name: psycopg2.pool.ThreadedConnectionPool(1, 8, dbname=name, user="postgres", host=SOCKET_DIR)
         for name in ("books", "borrows")}
http = requests.Session()
COLUMNS = "id, title, author, genre, isbn, published_year, description, copies, created_at"


def query(database, sql, params=(), *, commit=False, many=True):
    connection = pools[database].getconn()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else None
        connection.commit() if commit else connection.rollback()
        return rows if many else (rows[0] if rows else None)
    finally:
        pools[database].putconn(connection)


def transaction(database, statements):
    connection = pools[database].getconn()
    try:
        with connection.cursor() as cursor:
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else None)
        connection.commit()
        return results
    finally:
        pools[database].putconn(connection)


app = Flask(__name__)


def page_of(where, params, count_sql):
    total = query("books", count_sql, params)[0][0]
    page = int(request.args.get("page", 1))
    # the page's ids from the title index, then the rows: the product's query shape
    rows = query("books", f"SELECT {COLUMNS} FROM books JOIN (SELECT id FROM books {where} ORDER BY title_sort, id "
                          f"LIMIT 20 OFFSET %s) AS page USING (id) ORDER BY title_sort, id",
                 (*params, (page - 1) * 20))
    counts = http.get(f"{BACK}/counts", params={"book_id": [row[0] for row in rows]}, timeout=3).json()
    books = [dict(zip(("id", "title", "author", "genre", "isbn", "published_year", "description", "copies"),
                      row[:8], strict=True)) | {"created_at": row[8].isoformat(),
                                                "available_copies": row[7] - counts.get(str(row[0]), 0)}
             for row in rows]
    return jsonify(books), 200, {"X-Total-Count": str(total)}


if os.environ.get("SKELETON_ROLE") == "back":

    @app.get("/counts")
    def counts():
        ids = [int(i) for i in request.args.getlist("book_id")]
        rows = query("borrows", "SELECT book_id, count(*) FROM loans WHERE NOT returned AND book_id = ANY(%s) "
                                "GROUP BY book_id", (ids,))
        return jsonify({str(book_id): count for book_id, count in rows})

    @app.get("/book/<int:book_id>")
    def book(book_id):
        row = query("books", "SELECT id, title, copies FROM books WHERE id = %s", (book_id,), many=False)
        return (jsonify({"id": row[0], "title": row[1], "copies": row[2]}), 200) if row else ("", 404)

else:

    @app.get("/list")
    def list_books():
        return page_of("", (), "SELECT coalesce(sum(books), 0) FROM book_facet_counts WHERE facet = 'genre'")

    @app.get("/search")
    def search():
        tsquery = f"{re.sub(r'[^A-Za-z0-9]', '', request.args['q'])}:*"  # as the product does: words only
        where = "WHERE search_vector @@ to_tsquery('simple', %s)"
        return page_of(where, (tsquery,), f"SELECT count(*) FROM (SELECT 1 FROM books {where} LIMIT 501) AS hits")

    @app.post("/borrow")
    def borrow():
        body = request.get_json()
        book = http.get(f"{BACK}/book/{body['book_id']}", timeout=3).json()
        user, book_id = body["username"], body["book_id"]
        mine, held, out = transaction("borrows", [
            ("SELECT pg_advisory_xact_lock(1, hashtext(%s))", (user,)),
            ("SELECT pg_advisory_xact_lock(2, %s)", (book_id,)),
            ("SELECT count(*) FROM loans WHERE username = %s AND book_id = %s AND NOT returned", (user, book_id)),
            ("SELECT count(*) FROM loans WHERE username = %s AND NOT returned", (user,)),
            ("SELECT count(*) FROM loans WHERE book_id = %s AND NOT returned", (book_id,)),
        ])[2:]
        if mine[0][0] or held[0][0] >= 5 or out[0][0] >= book["copies"]:
            return jsonify({"message": "no"}), 409
        loan = query("borrows", "INSERT INTO loans (username, book_id, borrow_date, due_date, returned, renewals) "
                                "VALUES (%s, %s, now(), now() + interval '14 days', false, 0) RETURNING id",
                     (user, book_id), commit=True, many=False)
        return jsonify({"id": loan[0], "username": user, "book_id": book_id}), 201

    @app.post("/return")
    def return_book():
        body = request.get_json()
        rows = transaction("borrows", [
            ("SELECT id FROM loans WHERE username = %s AND book_id = %s AND NOT returned FOR UPDATE",
             (body["username"], body["book_id"])),
            ("UPDATE loans SET returned = true, returned_date = now() WHERE username = %s AND book_id = %s "
             "AND NOT returned", (body["username"], body["book_id"])),
        ])
        return (jsonify({"id": rows[0][0][0], "returned": True}), 200) if rows[0] else ("", 404)
