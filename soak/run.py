"""`make soak`: run the whole system, put a mixed workload of patrons and librarians on it with locust
(headless), then judge it: no failed request (5xx, timeout, broken connection), no broken invariant,
and memory steady (each service's total RSS grows under 10% from the end of warm-up to the end).

    python soak/run.py [--duration SECONDS] [--users N] [--results DIR]
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from library_common.processes import ONE_MACHINE_LIMITS, free_stack_ports, listening_pids

ROOT = Path(__file__).resolve().parent.parent
LIBRARIAN = "librarian:soak-librarian-pass"
SERVICES = {"books": "BOOKS_PORT", "users": "USER_PORT", "borrows": "BORROW_PORT", "web": "WEB_PORT"}
WORDS = ["hitch", "galaxy", "dune", "emma", "war", "peace", "night", "garden", "river", "stone", "fire", "sea"]
MAX_MEMORY_GROWTH = 0.10


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(ports):
    """{service: {pid: RSS in KiB}} for every process serving it (gunicorn master and workers)."""
    return {name: {pid: rss_kib(pid) for pid in listening_pids(ports[variable])} for name, variable in SERVICES.items()}


def wait_ready(urls, process, timeout=90):
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            if process.poll() is not None:
                sys.exit("soak: the system exited during start-up")
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"soak: {url} not ready")
            time.sleep(0.3)


def seed(urls):
    username, password = LIBRARIAN.split(":", 1)
    token = requests.post(f"{urls['users']}/login", json={"username": username, "password": password},
                          timeout=10).json()["token"]
    for number in range(40):
        word = WORDS[number % len(WORDS)]
        requests.post(f"{urls['books']}/books", headers={"Authorization": f"Bearer {token}"}, timeout=10, json={
            "title": f"The {word.title()} Book {number}", "author": f"Author {number % 7}", "genre": word.title(),
            "copies": 1 + number % 3}).raise_for_status()


def invariants(data_dir):
    """Problems found in the records: more loans than copies, or a patron holding a book twice."""
    socket_dir = data_dir / "postgres"
    engine = {name: sa.create_engine(f"postgresql+psycopg2://postgres@/{name}?host={socket_dir}",
                                     poolclass=sa.NullPool) for name in ("books", "borrows")}
    with engine["books"].connect() as db:
        copies = dict(db.execute(sa.text("SELECT id, copies FROM books")).all())
    with engine["borrows"].connect() as db:
        active = dict(db.execute(sa.text("SELECT book_id, count(*) FROM loans WHERE NOT returned GROUP BY 1")).all())
        doubles = db.execute(sa.text("SELECT username, book_id FROM loans WHERE NOT returned "
                                     "GROUP BY 1, 2 HAVING count(*) > 1")).all()
        loans = db.scalar(sa.text("SELECT count(*) FROM loans"))
    problems = [f"book {book}: {n} loans for {copies.get(book)} copies" for book, n in active.items()
                if n > copies.get(book, 0)]
    problems += [f"{user} holds book {book} twice" for user, book in doubles]
    return problems, loans


def read_stats(csv_path):
    with open(csv_path) as stats:
        rows = list(csv.DictReader(stats))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "requests_per_second": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
        "by_request": {row["Name"]: {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                     "p95_ms": float(row["95%"])} for row in rows if row["Name"] != "Aggregated"},
    }


def growth(warm, end):
    totals = {name: (sum(warm[name].values()), sum(end[name].values())) for name in SERVICES}
    return {name: round((after - before) / before, 4) if before else 0.0 for name, (before, after) in totals.items()}


def report(result, results_dir):
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "latest.json").write_text(json.dumps(result, indent=2))
    stats = result["stats"]
    lines = [
        f"Soak: {result['duration_s']} s, {result['users']} simulated users "
        f"({'PASS' if result['passed'] else 'FAIL'})",
        "",
        "| requests | failed | req/s | p50 | p95 | p99 | loans made | invariant problems |",
        "|---|---|---|---|---|---|---|---|",
        f"| {stats['requests']} | {stats['failures']} | {stats['requests_per_second']} | {stats['p50_ms']:.0f} ms "
        f"| {stats['p95_ms']:.0f} ms | {stats['p99_ms']:.0f} ms | {result['loans']} | {len(result['problems'])} |",
        "",
        "| service | RSS after warm-up | RSS at the end | growth |",
        "|---|---|---|---|",
    ]
    for name in SERVICES:
        before, after = sum(result["memory_warm"][name].values()), sum(result["memory_end"][name].values())
        lines.append(f"| {name} | {before / 1024:.1f} MiB | {after / 1024:.1f} MiB | "
                     f"{result['memory_growth'][name] * 100:+.1f}% |")
    (results_dir / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--results", type=Path, default=ROOT / "soak" / "results")
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="library-soak-"))
    ports = free_stack_ports()
    urls = {name: f"http://127.0.0.1:{ports[variable]}" for name, variable in SERVICES.items()}
    # SELF_REGISTRATION=open: the simulated patrons sign up and borrow at once (no approval step to simulate).
    env = {**os.environ, **ports, "DATA_DIR": str(data_dir), "BOOTSTRAP_LIBRARIAN": LIBRARIAN,
           "MAX_ACTIVE_LOANS": "5", "LOG_LEVEL": "WARNING", "SELF_REGISTRATION": "open", **ONE_MACHINE_LIMITS}
    with open(data_dir / "system.log", "w") as system_log:
        system = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "run"], env=env, cwd=ROOT,
                                  stdout=system_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready([f"{urls[name]}/ready" for name in ("users", "books", "borrows")] + [f"{urls['web']}/health"],
                   system)
        seed(urls)
        load_env = {**os.environ, "BOOKS_URL": urls["books"], "USERS_URL": urls["users"],
                    "BORROWS_URL": urls["borrows"], "WEB_URL": urls["web"], "SOAK_LIBRARIAN": LIBRARIAN}
        csv_prefix = data_dir / "locust"
        load = subprocess.Popen(
            [args.locust, "-f", str(ROOT / "soak" / "locustfile.py"), "--headless", "--users", str(args.users),
             "--spawn-rate", "5", "--run-time", f"{args.duration}s", "--csv", str(csv_prefix), "--only-summary",
             "--stop-timeout", "10", "--loglevel", "WARNING"],
            env=load_env, cwd=ROOT / "soak")
        time.sleep(max(10, args.duration // 5))  # warm-up: every user spawned, pools and caches filled
        memory_warm = memory(ports)
        load.wait(timeout=args.duration + 120)
        memory_end = memory(ports)
        problems, loans = invariants(data_dir)
        stats = read_stats(f"{csv_prefix}_stats.csv")
    finally:
        os.killpg(system.pid, signal.SIGTERM)
        system.wait(timeout=60)

    memory_growth = growth(memory_warm, memory_end)
    passed = stats["failures"] == 0 and not problems and all(g < MAX_MEMORY_GROWTH for g in memory_growth.values())
    result = {"duration_s": args.duration, "users": args.users, "passed": passed, "stats": stats, "loans": loans,
              "problems": problems, "memory_warm": memory_warm, "memory_end": memory_end,
              "memory_growth": memory_growth}
    report(result, args.results)
    for problem in problems:
        print(f"soak: {problem}", flush=True)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
