"""`make bench`: the library at scale, under load, next to the architecture's floor.

    .venv-bench/bin/python bench/run.py [--scales default] [--seconds 15] [--users 1 8 32]
    .venv-bench/bin/python bench/run.py --profile [--scales default] [--users 8]   # flame graphs
    .venv-bench/bin/python bench/run.py --workers [--users 8]                      # gunicorn models
    .venv-bench/bin/python bench/run.py --serve [--scales default]                 # poke at it by hand

For each scale: start the system the way `make run` does (throwaway data directory), fill it with
bench/generate.py, start the skeleton (bench/skeleton.py) under the same gunicorn settings, then run
every scenario at every concurrency with locust and record throughput, latency percentiles and errors.
Writes bench/results/results.json, results.md and PNG plots (--profile: bench/results/profiles/*.svg,
--workers: bench/results/workers.md).
"""

import argparse
import contextlib
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import psycopg2

from generate import SCALES, generate
from library_common.processes import (ONE_MACHINE_LIMITS, free_ports, free_stack_ports, listening_pids,
                                      wait_until_answering)

ROOT = Path(__file__).resolve().parent.parent
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results"
SCENARIOS = ["list", "search", "facets", "checkout", "login", "page"]
FLOOR = {"list": "skeleton-list", "search": "skeleton-search", "checkout": "skeleton-checkout"}


class Library(NamedTuple):
    work: Path
    ports: dict
    socket_dir: str
    data: dict
    load_env: dict


def wait(url, timeout=90):
    try:
        wait_until_answering(url, timeout)
    except TimeoutError as problem:
        sys.exit(f"bench: {problem}")


def start(command, env, log_path):
    with open(log_path, "w") as log:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def locust(scenario, users, seconds, env, work):
    prefix = work / f"{scenario}-{users}"
    subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
                    "--headless", "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
                    "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "5"],
                   env={**env, "SCENARIO": scenario}, cwd=ROOT / "bench", check=False, capture_output=True)
    with open(f"{prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    measured = [row for name, row in rows.items() if not name.startswith("setup") and name != "Aggregated"]
    count = sum(int(row["Request Count"]) for row in measured)
    # A scenario of two requests (borrow + return, catalogue + My borrows) is judged by its slower one.
    return {
        "requests": count,
        "errors": sum(int(row["Failure Count"]) for row in measured),
        "throughput": round(sum(float(row["Requests/s"]) for row in measured), 1),
        **{f"p{q}_ms": max(float(row[f"{q}%"]) for row in measured) for q in (50, 95, 99)},
        "request": " + ".join(row["Name"] for row in measured),
    }


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {memory_kib / 2**20:.0f} GiB, "
            f"{platform.platform()}, PostgreSQL from pgserver; locust on the same cores")


def gunicorn_master(port):
    """The parent of the processes listening on `port` (gunicorn's workers share the master's socket)."""
    pids = set(listening_pids(port))
    parents = {int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for pid in pids}
    return next(iter(pids & parents or parents))


def rss_mib(port):
    total = 0
    for pid in listening_pids(port):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def over_booking(socket_dir):
    """Books with more active loans than copies (must be none)."""
    with psycopg2.connect(dbname="books", user="postgres", host=socket_dir) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT id, copies FROM books")
        copies = dict(cursor.fetchall())
    with psycopg2.connect(dbname="borrows", user="postgres", host=socket_dir) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT book_id, count(*) FROM loans WHERE NOT returned GROUP BY 1")
        return [book for book, active in cursor.fetchall() if active > copies.get(book, 0)]


@contextlib.contextmanager
def library_at_scale(scale):
    """The whole system as `make run` starts it, in a throwaway data directory, filled at `scale`,
    with the skeleton beside it; yields what the load driver needs."""
    work = Path(tempfile.mkdtemp(prefix=f"library-bench-{scale}-"))
    ports = free_stack_ports()
    skeleton_front, skeleton_back = map(str, free_ports(2))
    skeleton_ports = {"front": skeleton_front, "back": skeleton_back}
    env = {**os.environ, **ports, "DATA_DIR": str(work), "LOG_LEVEL": "WARNING", "MAX_ACTIVE_LOANS": "5",
           "BOOTSTRAP_LIBRARIAN": "librarian:bench-librarian-pass", **ONE_MACHINE_LIMITS}
    system = start([str(APP_PYTHON), str(ROOT / "scripts" / "stack.py"), "run"], env, work / "system.log")
    skeletons = []
    try:
        urls = {"books": f"http://127.0.0.1:{ports['BOOKS_PORT']}", "users": f"http://127.0.0.1:{ports['USER_PORT']}",
                "borrows": f"http://127.0.0.1:{ports['BORROW_PORT']}", "web": f"http://127.0.0.1:{ports['WEB_PORT']}",
                "skeleton": f"http://127.0.0.1:{skeleton_ports['front']}"}
        for name in ("users", "books", "borrows"):
            wait(f"{urls[name]}/ready")
        wait(f"{urls['web']}/health")
        socket_dir = str(work / "postgres")
        started = time.monotonic()
        data = generate(scale, socket_dir)
        data["load_seconds"] = round(time.monotonic() - started, 1)
        for role in ("back", "front"):
            skeleton_env = {**env, "SKELETON_ROLE": role, "SKELETON_DB_HOST": socket_dir,
                            "SKELETON_BACK_URL": f"http://127.0.0.1:{skeleton_ports['back']}",
                            "BIND": f"127.0.0.1:{skeleton_ports[role]}"}
            skeletons.append(start([str(APP_PYTHON), "-m", "gunicorn", "-c", "python:library_common.gunicorn_conf",
                                    "--chdir", str(ROOT / "bench"), "skeleton:app"], skeleton_env,
                                   work / f"skeleton-{role}.log"))
        wait(f"{urls['skeleton']}/list")
        load_env = {**os.environ, **{f"{name.upper()}_URL": url for name, url in urls.items()},
                    "BENCH_BOOKS": str(data["books"]), "BENCH_USERS": str(data["users"]),
                    "BENCH_WORDS": ",".join(data["search_words"]["common"] + data["search_words"]["rare"])}
        yield Library(work, ports, socket_dir, data, load_env)
    finally:
        for process in skeletons:
            stop(process)
        stop(system)


def bench_scale(scale, seconds, concurrency):
    with library_at_scale(scale) as library:
        memory_start = {name: rss_mib(port) for name, port in library.ports.items()}
        runs = []
        for scenario in SCENARIOS + list(FLOOR.values()):
            for users in concurrency:
                result = locust(scenario, users, seconds, library.load_env, library.work)
                runs.append({"scale": scale, "scenario": scenario, "users": users, **result})
                print(f"bench {scale:>7} {scenario:>17} x{users:<3} {result['throughput']:>7} req/s  "
                      f"p95 {result['p95_ms']:>5.0f} ms  errors {result['errors']}", flush=True)
        memory_end = {name: rss_mib(port) for name, port in library.ports.items()}
        problems = over_booking(library.socket_dir)
    return {"scale": scale, "data": library.data, "runs": runs, "overbooked_books": problems,
            "memory_mib": {"start": memory_start, "end": memory_end}}


def profile(scale, seconds, users):
    """A py-spy flame graph of the service that does each scenario's work, recorded under load."""
    serving = {"list": "BOOKS_PORT", "search": "BOOKS_PORT", "checkout": "BORROW_PORT", "login": "USER_PORT",
               "page": "WEB_PORT"}
    (RESULTS / "profiles").mkdir(parents=True, exist_ok=True)
    with library_at_scale(scale) as library:
        for scenario, port in serving.items():
            master = gunicorn_master(library.ports[port])
            output = RESULTS / "profiles" / f"{scenario}.svg"
            output.unlink(missing_ok=True)
            for _attempt in range(2):  # py-spy now and then exits without writing; one more run then
                with open(library.work / f"py-spy-{scenario}.log", "w+") as log:
                    recorder = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                                                 str(master), "--subprocesses", "--duration", str(seconds), "--rate",
                                                 "200", "--output", str(output), "--nonblocking"],
                                                stdout=log, stderr=subprocess.STDOUT)
                    result = locust(scenario, users, seconds, library.load_env, library.work)
                    recorder.wait(timeout=60)
                    log.seek(0)
                    problem = f"py-spy exited with {recorder.returncode}: {log.read()[-300:]}"
                if output.exists():
                    break
            outcome = output.relative_to(ROOT) if output.exists() else f"no flame graph ({problem})"
            print(f"profile {scenario:>9} x{users}: {result['throughput']} req/s, p95 {result['p95_ms']:.0f} ms "
                  f"-> {outcome}", flush=True)


WORKER_MODELS = {  # gunicorn settings every service (and the skeleton) is started with, one model at a time
    "gthread 2 workers x 4 threads (chosen)": {"WEB_CONCURRENCY": "2", "WEB_THREADS": "4"},
    "gthread 1 x 8": {"WEB_CONCURRENCY": "1", "WEB_THREADS": "8"},
    "gthread 4 x 2": {"WEB_CONCURRENCY": "4", "WEB_THREADS": "2"},
    "gthread 3 x 4": {"WEB_CONCURRENCY": "3", "WEB_THREADS": "4"},
    "sync 4 workers": {"WEB_CONCURRENCY": "4", "GUNICORN_CMD_ARGS": "--worker-class sync"},
}


def compare_worker_models(scale, seconds, users):
    """Each worker model on a fresh system: throughput and p95 per scenario, and the services' memory."""
    lines = [f"{scale} scale, {users} clients, {seconds} s per run; req/s and p95 per scenario", "",
             "| worker model | list | search | checkout | page | memory of the 4 services |",
             "|---|---|---|---|---|---|"]
    for name, settings in WORKER_MODELS.items():
        os.environ.update(settings)
        try:
            with library_at_scale(scale) as library:
                cells = []
                for scenario in ("list", "search", "checkout", "page"):
                    result = locust(scenario, users, seconds, library.load_env, library.work)
                    cells.append(f"{result['throughput']}/s, {result['p95_ms']:.0f} ms"
                                 + (f", {result['errors']} errors" if result["errors"] else ""))
                memory = sum(rss_mib(port) for port in library.ports.values())
        finally:
            for key in settings:
                os.environ.pop(key)
        lines.append(f"| {name} | {' | '.join(cells)} | {memory:.0f} MiB |")
        print(lines[-1], flush=True)
    (RESULTS / "workers.md").write_text("\n".join(lines) + "\n")


def serve(scale):
    with library_at_scale(scale) as library:
        print(json.dumps({key: value for key, value in library.load_env.items() if key.endswith("_URL")
                          or key.startswith("BENCH_")} | {"DATA_DIR": str(library.work)}, indent=2), flush=True)
        signal.pause()


def table(results):
    lines = []
    for scale_result in results["scales"]:
        floor = {(run["scenario"], run["users"]): run for run in scale_result["runs"]}
        data = scale_result["data"]
        lines += [f"### {scale_result['scale']} scale: {data['books']:,} books, {data['users']:,} users, "
                  f"{data['history'] + data['active']:,} loans (loaded in {data['load_seconds']} s)", "",
                  "| scenario | clients | req/s | p50 | p95 | p99 | errors | skeleton req/s | product/skeleton |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for run in scale_result["runs"]:
            if run["scenario"].startswith("skeleton"):
                continue
            skeleton = floor.get((FLOOR.get(run["scenario"], ""), run["users"]))
            ratio = f"{run['throughput'] / skeleton['throughput']:.0%}" if skeleton and skeleton["throughput"] else "–"
            lines.append(f"| {run['scenario']} | {run['users']} | {run['throughput']} | {run['p50_ms']:.0f} ms | "
                         f"{run['p95_ms']:.0f} ms | {run['p99_ms']:.0f} ms | {run['errors']} | "
                         f"{skeleton['throughput'] if skeleton else '–'} | {ratio} |")
        lines += ["", f"Over-booked books after the run: {len(scale_result['overbooked_books'])}. Service memory "
                  f"(RSS, MiB) before → after: " + ", ".join(
                      f"{name.split('_')[0].lower()} {scale_result['memory_mib']['start'][name]} → "
                      f"{scale_result['memory_mib']['end'][name]}" for name in scale_result["memory_mib"]["start"]),
                  ""]
    return "\n".join(lines)


def growth_table(results):
    """p95 at 8 clients for each scale, and largest/smallest: indexes keep it flat, scans would not."""
    scales = sorted(results["scales"], key=lambda scale_result: scale_result["data"]["books"])
    if len(scales) < 2:
        return ""
    users = 8 if 8 in results["concurrency"] else results["concurrency"][0]
    lines = [f"### Growth: p95 at {users} clients by catalogue size", "",
             "| scenario | " + " | ".join(f"{s['scale']} ({s['data']['books']:,} books)" for s in scales)
             + f" | {scales[-1]['scale']} / {scales[0]['scale']} |", "|---|" + "---|" * (len(scales) + 1)]
    for scenario in ("list", "search", "facets", "checkout", "page"):
        p95 = [next(r["p95_ms"] for r in s["runs"] if r["scenario"] == scenario and r["users"] == users)
               for s in scales]
        lines.append(f"| {scenario} | " + " | ".join(f"{value:.0f} ms" for value in p95)
                     + f" | {p95[-1] / p95[0]:.2f}x |")
    return "\n".join(lines) + "\n"


def report(results):
    markdown = table(results) + "\n" + growth_table(results)
    (RESULTS / "results.md").write_text(f"Machine: {results['machine']}\n\n{markdown}")
    plots(results)
    return markdown


def plots(results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = next((s for s in results["scales"] if s["scale"] == "default"), results["scales"][0])
    scenarios = SCENARIOS + list(FLOOR.values())
    figure, axes = plt.subplots(1, len(results["concurrency"]), figsize=(15, 5), sharey=True)
    for axis, users in zip(axes, results["concurrency"], strict=True):
        runs = {run["scenario"]: run for run in main["runs"] if run["users"] == users}
        for offset, percentile in enumerate(("p50_ms", "p95_ms", "p99_ms")):
            axis.bar([i + offset * 0.27 for i in range(len(scenarios))],
                     [runs[s][percentile] for s in scenarios], width=0.27, label=percentile.split("_")[0])
        axis.set_xticks(range(len(scenarios)), [s.replace("skeleton-", "floor ") for s in scenarios], rotation=45,
                        ha="right")
        axis.set_title(f"{users} concurrent client{'s' if users > 1 else ''}")
        axis.set_ylabel("latency (ms)")
        axis.legend()
    figure.suptitle(f"Latency by scenario ({main['scale']} scale)")
    figure.tight_layout()
    figure.savefig(RESULTS / "latency.png", dpi=90)
    plt.close(figure)
    if len(results["scales"]) > 1:
        figure, axis = plt.subplots(figsize=(7, 5))
        for scenario in ("list", "search", "facets", "checkout"):
            points = sorted((s["data"]["books"], next(r["p95_ms"] for r in s["runs"]
                                                      if r["scenario"] == scenario and r["users"] == 8))
                            for s in results["scales"])
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=scenario)
        axis.set_xscale("log")
        axis.set_xlabel("books in the catalogue")
        axis.set_ylabel("p95 latency at 8 clients (ms)")
        axis.legend()
        figure.tight_layout()
        figure.savefig(RESULTS / "growth.png", dpi=90)
        plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", choices=SCALES, default=["default"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--users", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--profile", action="store_true",
                        help="record a py-spy flame graph per scenario (first scale, first --users) instead")
    parser.add_argument("--report", action="store_true",
                        help="only write the table and plots again from bench/results/results.json")
    parser.add_argument("--workers", action="store_true",
                        help="compare gunicorn worker models (first scale, first --users) -> results/workers.md")
    parser.add_argument("--serve", action="store_true",
                        help="start the filled library at the first scale, print its URLs and wait for Ctrl-C")
    args = parser.parse_args()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # either one stops the system it started, cleanly
        signal.signal(stop_signal, lambda *_: sys.exit(1))
    if args.profile:
        return profile(args.scales[0], args.seconds, args.users[0])
    if args.report:
        return print(report(json.loads((RESULTS / "results.json").read_text())))
    if args.workers:
        return compare_worker_models(args.scales[0], args.seconds, args.users[0])
    if args.serve:
        return serve(args.scales[0])
    results = {"machine": machine(),
               "concurrency": args.users, "seconds_per_run": args.seconds,
               "scales": [bench_scale(scale, args.seconds, args.users) for scale in args.scales]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
