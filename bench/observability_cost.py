"""`make bench-observability`: what metrics and tracing cost a request, measured with wrk.

    .venv/bin/python bench/observability_cost.py [--rounds 2] [--seconds 20]

Starts books-, user- and borrow-service the way `make run` does (a throwaway data directory each time) under
three settings in turn, `--rounds` times, every other round in reverse order: neither (METRICS_ENABLED=false, no
OTEL endpoint), metrics only, and metrics with tracing (spans sent to an OTLP receiver in this process). For each,
`wrk -t2 -c8 --latency` on books-service `GET /books/1` (which asks borrow-service for the book's loans), after a
5-second warm-up, and the CPU the books-service and borrow-service processes used per request (from /proc:
steadier than requests/s when something else shares the machine). Writes bench/results/observability.md.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from library_common.processes import free_stack_ports, listening_pids, wait_until_answering
from library_common.testing import OtlpReceiver

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "observability.md"
SETTINGS = {"neither": {"METRICS_ENABLED": "false"}, "metrics": {}, "metrics and tracing": {"tracing": True}}
TICK = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench-librarian-pass"


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url], capture_output=True,
                         text=True, check=True).stdout
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
            "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)}


def measure(name, receiver, seconds, work):
    settings = dict(SETTINGS[name])
    ports = free_stack_ports()
    env = {**os.environ, **ports, **{k: v for k, v in settings.items() if k != "tracing"},
           "DATA_DIR": str(work / "data"), "BOOTSTRAP_LIBRARIAN": f"librarian:{PASSWORD}"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if settings.get("tracing"):
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url
    shutil.rmtree(work / "data", ignore_errors=True)
    with open(work / "stack.log", "w") as log:
        system = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "run", "books", "users",
                                   "borrows"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    books, users = (f"http://127.0.0.1:{ports[port]}" for port in ("BOOKS_PORT", "USER_PORT"))
    try:
        for port in ("BOOKS_PORT", "USER_PORT", "BORROW_PORT"):
            wait_until_answering(f"http://127.0.0.1:{ports[port]}/ready", 180)
        token = requests.post(f"{users}/login", json={"username": "librarian", "password": PASSWORD},
                              timeout=30).json()["token"]
        requests.post(f"{books}/books", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                      json={"title": "Bench", "author": "B. Ench", "genre": "Bench"}).raise_for_status()
        wrk(f"{books}/books/1", 5)
        pids = listening_pids(int(ports["BOOKS_PORT"])) + listening_pids(int(ports["BORROW_PORT"]))
        before = cpu_seconds(pids)
        result = wrk(f"{books}/books/1", seconds)
        result["cpu_ms"] = (cpu_seconds(pids) - before) * 1000 / result["requests"]
        result["load"] = Path("/proc/loadavg").read_text().split()[0]
        return result
    finally:
        os.killpg(system.pid, signal.SIGTERM)
        system.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    options = parser.parse_args()
    receiver = OtlpReceiver()
    rows = ["| round | metrics, tracing | requests/s | p50 | p99 | CPU per request | load average |",
            "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="library-observability-") as work:
        for round_ in range(1, options.rounds + 1):
            # Every other round in reverse order: what runs later shares the machine with what runs before it.
            for name in list(SETTINGS)[::1 if round_ % 2 else -1]:
                found = measure(name, receiver, options.seconds, Path(work))
                rows.append(f"| {round_} | {name} | {found['rps']:.1f} | {found['p50']} | {found['p99']} | "
                            f"{found['cpu_ms']:.2f} ms | {found['load']} |")
                print(rows[-1], flush=True)
    receiver.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("wrk -t2 -c8 on books-service GET /books/1\n\n" + "\n".join(rows) + "\n")
    print(f"spans received: {len(receiver.spans)}; written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
