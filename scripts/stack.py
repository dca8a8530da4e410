"""Bring the library up: a PostgreSQL server, each service's database and migrations, then the services.

    python scripts/stack.py run [--dev]     # what `make run` / `make dev` do
    python scripts/stack.py test [PYTEST_ARGS...]   # what `make test` does
    python scripts/stack.py backup [DIR] | restore FILE   # `make backup`, `make restore FILE=...`
    python scripts/stack.py monitor         # what `make monitor` does: Prometheus scraping a running `make run`

With no database settings, an embedded PostgreSQL (pgserver) keeps its data in $DATA_DIR
(default .data/ at the repository root). DATABASE_URL pointing at any PostgreSQL server
is used instead, with one database per service on it; BOOKS_DATABASE_URL,
USERS_DATABASE_URL and BORROWS_DATABASE_URL name each database outright.
The services run under honcho, which interleaves their logs and stops them all on Ctrl-C.
"""

import argparse
import ipaddress
import os
import re
import secrets
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import warnings
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from library_common.config import DEV_LIBRARIAN_PASSWORD, MAIL_CATCHER_SMTP_PORT, shared_secret_problems
from library_common.databases import ensure_database
from library_common.observability import configure_logging
from library_common.processes import METRICS_PORTS, metrics_port_variable
from web_frontend.assets import LOCAL_HTMX

ROOT = Path(__file__).resolve().parent.parent
DEV_LIBRARIAN = f"librarian:{DEV_LIBRARIAN_PASSWORD}"

# service -> (its database, its port variable, its default port, its app package)
SERVICES = {
    "books": ("books", "BOOKS_PORT", 5000, "books_service"),
    "users": ("users", "USER_PORT", 5001, "user_service"),
    "borrows": ("borrows", "BORROW_PORT", 5002, "borrow_service"),
    "notifications": ("notifications", "NOTIFICATION_PORT", 5003, "notification_service"),
}
# The local mail catcher (library_common.mailcatcher): what notification-service sends, kept for the mailbox page.
MAIL_PORTS = {"MAIL_SMTP_PORT": MAIL_CATCHER_SMTP_PORT, "MAILBOX_PORT": 1080}


def data_dir():
    return Path(os.environ.get("DATA_DIR", ROOT / ".data")).resolve()


def start_embedded_postgres(directory, cleanup_mode="stop"):
    with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR on servers; harmless
        warnings.simplefilter("ignore")
        import pgserver  # imported here: not needed when DATABASE_URL points elsewhere

    directory.mkdir(parents=True, exist_ok=True)
    # pgserver stops (or deletes) the server at exit, once no process uses it.
    return pgserver.get_server(directory, cleanup_mode=cleanup_mode).get_uri()


def database_urls(env):
    """Each service's database URL, creating the databases (and starting PostgreSQL) when needed."""
    explicit = {name: env.get(f"{name.upper()}_DATABASE_URL") for name in SERVICES}
    if all(explicit.values()):
        return explicit
    server_url = env.get("DATABASE_URL")
    if not server_url:
        postgres_dir = data_dir() / "postgres"
        print(f"stack: starting embedded PostgreSQL in {postgres_dir}", flush=True)
        server_url = start_embedded_postgres(postgres_dir)
    urls = {
        name: explicit[name] or ensure_database(server_url, database)
        for name, (database, *_rest) in SERVICES.items()
    }
    return urls


def migrate(urls):
    from flask_migrate import upgrade

    for name, (_db, _port_var, _port, package) in SERVICES.items():
        app = __import__(package).create_app({"DATABASE_URL": urls[name], "BOOTSTRAP_LIBRARIAN": ""})
        with app.app_context():
            upgrade()
    configure_logging("stack", "INFO")  # each create_app above claimed the log for its service


def service_environment(env, urls):
    host = env.get("HOST", "127.0.0.1")
    ports = {name: env.get(port_var, str(port)) for name, (_db, port_var, port, _pkg) in SERVICES.items()}
    mail_ports = {name: env.get(name, str(port)) for name, port in MAIL_PORTS.items()}
    notifier_secret = env.get("NOTIFIER_SECRET") or kept_secret("notifier-secret")
    books_secret = env.get("BOOKS_SECRET") or kept_secret("books-service-secret")
    stack_env = {
        "HOST": host,
        "WEB_PORT": env.get("WEB_PORT", "8000"),
        "FRONTEND_SECRET_KEY": env.get("FRONTEND_SECRET_KEY") or kept_secret("frontend-secret-key"),
        "HTMX_SRC": env.get("HTMX_SRC") or ("local" if LOCAL_HTMX.exists() else "cdn"),
        **{port_var: ports[name] for name, (_db, port_var, _port, _pkg) in SERVICES.items()},
        **{f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
        "BOOKS_SERVICE_URL": f"http://{host}:{ports['books']}",
        "USER_SERVICE_URL": f"http://{host}:{ports['users']}",
        "BORROW_SERVICE_URL": f"http://{host}:{ports['borrows']}",
        "NOTIFICATION_SERVICE_URL": f"http://{host}:{ports['notifications']}",
        "JWKS_URL": f"http://{host}:{ports['users']}/.well-known/jwks.json",
        # notification-service reads the event logs as a service, with this secret (user-service knows it).
        "NOTIFIER_SECRET": notifier_secret,
        "NOTIFICATION_SERVICE_SECRET": notifier_secret,
        # user-service signs mailed links with a key of this library's own (the repository's would let anyone
        # forge a welcome link into a desk patron's account).
        "LINK_SECRET_KEY": env.get("LINK_SECRET_KEY") or kept_secret("link-secret-key"),
        # books-service's worker asks borrow-service about books as itself (reverting an import): the same way.
        "BOOKS_SECRET": books_secret,
        "BOOKS_SERVICE_SECRET": books_secret,
        **mail_ports,
        # Each process's /metrics port (loopback), and where the gunicorns keep their processes' counts.
        **{metrics_port_variable(name): env.get(metrics_port_variable(name), str(port))
           for name, port in METRICS_PORTS.items()},
        "METRICS_DIR": str(data_dir() / "metrics"),
        # A mail server of the library's own (SMTP_HOST set) is used as given; otherwise the mail catcher.
        "SMTP_PORT": env.get("SMTP_PORT", "25") if env.get("SMTP_HOST") else mail_ports["MAIL_SMTP_PORT"],
        "MAIL_DIR": str(data_dir() / "mail"),
        # The mail catcher listens on loopback whatever HOST is: its mail holds live password links.
        "MAILBOX_URL": "" if env.get("SMTP_HOST") else f"http://127.0.0.1:{mail_ports['MAILBOX_PORT']}",
        "SITE_URL": env.get("SITE_URL") or f"http://{host}:{env.get('WEB_PORT', '8000')}",
        "BOOTSTRAP_LIBRARIAN": env.get("BOOTSTRAP_LIBRARIAN", DEV_LIBRARIAN),
        # The services believe X-Forwarded-For (the person's address) only from the frontend's calls.
        "FRONTEND_ADDRESS": frontend_address(host),
        "PYTHONUNBUFFERED": "1",
        # The Procfile's gunicorn and flask are the ones installed beside this Python.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    }
    return {**env, **stack_env}


def frontend_address(host):
    """Where the web frontend's calls to the services come from: HOST itself, or loopback when HOST is
    every interface or a name (the services' URLs then lead to them over loopback)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "127.0.0.1,::1"
    return "127.0.0.1,::1" if address.is_unspecified else host


def kept_secret(name):
    """A random key made once per data directory (the frontend's session key, so logins survive a restart;
    notification-service's secret at user-service)."""
    path = data_dir() / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def welcome_once_ready(env, patience=180):
    """Print the welcome (where to open the library) once the site answers, not while it is still starting:
    a reader who opens the address at once must not meet "connection refused"."""
    site = f"http://{'127.0.0.1' if env['HOST'] in ('0.0.0.0', '::') else env['HOST']}:{env['WEB_PORT']}/health"
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(site, timeout=2) as answer:
                if answer.status == 200:
                    print_welcome(env)
                    return
        except OSError:
            pass
        time.sleep(0.5)
    print(f"stack: the site did not answer at {site} within {patience} s: see the log above", flush=True)


def print_welcome(env):
    librarian, _, password = env["BOOTSTRAP_LIBRARIAN"].partition(":")
    host = env["HOST"]
    mail = (f"the mail the library sends goes to its mail server, {env['SMTP_HOST']}:{env['SMTP_PORT']}"
            if env.get("SMTP_HOST") else
            f"the mail the library sends: http://{host}:{env['WEB_PORT']}/dev/mailbox (log in as the librarian),\n"
            f"    or as JSON: {env['MAILBOX_URL']}/messages")
    print(
        f"""
stack: the library is starting
  open the library: http://{host}:{env['WEB_PORT']}
  books-service   http://{host}:{env['BOOKS_PORT']}   (API docs: /docs)
  user-service    http://{host}:{env['USER_PORT']}
  borrow-service  http://{host}:{env['BORROW_PORT']}
  notification-service http://{host}:{env['NOTIFICATION_PORT']}
  {mail}
  librarian login: username {librarian!r}, password {password!r}
    curl -s -X POST -H 'Content-Type: application/json' \\
      -d '{{"username": "{librarian}", "password": "{password}"}}' http://{host}:{env['USER_PORT']}/login
  Ctrl-C stops everything.
""",
        flush=True,
    )


def run_foreground(command, env):
    """Run `command` until it exits; Ctrl-C and SIGTERM stop it, and then we exit normally (status 0)."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    stopped = []

    def on_ctrl_c(*_):  # the terminal sends SIGINT to honcho as well: just note it
        stopped.append(signal.SIGINT)

    def on_terminate(*_):
        stopped.append(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, on_ctrl_c)
    signal.signal(signal.SIGTERM, on_terminate)
    code = process.wait()
    return 0 if stopped else code


def refuse_secrets_shared_between_services(env):
    """In production, user-service's SECRET_KEY and the frontend's (FRONTEND_SECRET_KEY) must differ. Each
    service checks its own secrets as it starts; only here are both known (under compose, the container
    entrypoint compares them). A frontend key made here is random, so only one given can be the same."""
    if env.get("APP_ENV") != "production":
        return
    problems = shared_secret_problems({"SECRET_KEY": env.get("SECRET_KEY", ""),
                                       "FRONTEND_SECRET_KEY": env.get("FRONTEND_SECRET_KEY", "")})
    if problems:
        sys.exit("stack: refusing to start in production: " + "; ".join(problems))


def load_demo(env):
    """`make demo`: the goodbooks-10k catalogue, imported through the API once the services answer."""
    import demo_catalogue

    def say(text):
        print(text, flush=True)

    try:
        demo_catalogue.load(env["BOOKS_SERVICE_URL"], env["USER_SERVICE_URL"], env["BOOTSTRAP_LIBRARIAN"], say)
    except Exception as error:  # the library runs on without its demo books; say why
        say(f"demo: could not load the demo catalogue: {error}")


def run(args):
    refuse_secrets_shared_between_services(os.environ)
    urls = database_urls(os.environ)
    migrate(urls)
    env = service_environment(os.environ, urls)
    if args.demo:
        # The demo's 10,000 goodbooks covers are on a host this machine may not reach (offline): the worker
        # leaves them waiting rather than spend its turns failing; COVERS_FETCH=true fetches them.
        env.setdefault("COVERS_FETCH", "false")
    print("stack: starting the library (it says where to open it once its pages answer)", flush=True)
    threading.Thread(target=welcome_once_ready, args=(env,), daemon=True).start()
    if args.demo:
        threading.Thread(target=load_demo, args=(env,), daemon=True).start()
    procfile = ROOT / ("Procfile.dev" if args.dev else "Procfile")
    honcho = [sys.executable, "-m", "honcho", "start", "-f", str(procfile), "-d", str(ROOT)]
    return run_foreground(honcho + (args.processes or processes_to_start(procfile, env)), env)


def processes_to_start(procfile, env):
    """Every process of the Procfile, but the mail catcher when the library has a mail server of its own
    (SMTP_HOST): its mail goes there, and nothing should listen for it here."""
    names = [line.partition(":")[0] for line in procfile.read_text().splitlines() if re.match(r"^[a-z-]+:", line)]
    return [name for name in names if not (name == "mail" and env.get("SMTP_HOST"))]


def test(args):
    """Run every suite against one throwaway embedded PostgreSQL (or TEST_DATABASE_URL)."""
    env = dict(os.environ)
    if not env.get("TEST_DATABASE_URL"):
        throwaway = Path(tempfile.mkdtemp(prefix="library-test-")) / "postgres"
        env["TEST_DATABASE_URL"] = start_embedded_postgres(throwaway, cleanup_mode="delete")
    code = run_foreground([sys.executable, "-m", "pytest", *args.pytest_args], env)
    if code == 5:  # pytest: no tests collected (for example a filter that matches nothing)
        print("stack: no tests ran", flush=True)
        code = 0
    return code


def pg_tool(name):
    """pg_dump / pg_restore of the embedded server's own version when it is installed, else from PATH."""
    try:
        import pgserver
    except ImportError:
        return name
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
    return str(bundled) if bundled.exists() else name


def libpq_url(url):
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(args):
    """One archive holding a pg_dump of each service's database (each dump is consistent on its own)."""
    urls = database_urls(os.environ)
    target = Path(args.directory).resolve() / f"library-{datetime.now():%Y%m%d-%H%M%S}.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, tarfile.open(target, "w") as archive:
        for name, url in urls.items():
            dump = Path(work) / f"{name}.dump"
            subprocess.run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", libpq_url(url)],
                           check=True)
            archive.add(dump, arcname=dump.name)
    print(f"stack: backed up {', '.join(urls)} to {target}", flush=True)
    return 0


def restore(args):
    """Replace each service's data with the archive's (stop `make run` first)."""
    urls = database_urls(os.environ)
    migrate(urls)  # a fresh data directory gets its tables first, so --clean has something to replace
    with tempfile.TemporaryDirectory() as work:
        with tarfile.open(args.file) as archive:
            archive.extractall(work, filter="data")
        for name, url in urls.items():
            subprocess.run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                            f"--dbname={libpq_url(url)}", str(Path(work) / f"{name}.dump")], check=True)
    print(f"stack: restored {', '.join(urls)} from {args.file}", flush=True)
    return 0


def monitor(args):
    """Prometheus in the foreground on PROMETHEUS_ADDRESS (127.0.0.1:9090), its data in $DATA_DIR/prometheus,
    scraping every process of a `make run` with the same environment (its metrics ports)."""
    from library_common.monitoring import prometheus_command, write_prometheus_config

    directory = data_dir() / "prometheus"
    ports = {name: os.environ.get(metrics_port_variable(name), str(port)) for name, port in METRICS_PORTS.items()}
    config = write_prometheus_config(ROOT / "monitoring" / "prometheus.yml", ports, directory)
    address = os.environ.get("PROMETHEUS_ADDRESS", "127.0.0.1:9090")
    scraped = ", ".join(f"{name} :{port}" for name, port in ports.items())
    print(f"stack: Prometheus on http://{address} (alerts: /classic/alerts, rules: /classic/rules, "
          f"targets: /classic/targets), scraping {scraped}; Ctrl-C stops it", flush=True)
    return run_foreground(prometheus_command(config, directory / "data", address), os.environ)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the whole system in the foreground")
    run_parser.add_argument("--dev", action="store_true", help="Flask's reloader instead of gunicorn")
    run_parser.add_argument("--demo", action="store_true",
                            help="load the goodbooks-10k catalogue (once: not into a catalogue with books)")
    run_parser.add_argument("processes", nargs="*", help="only these Procfile entries (default: all)")
    test_parser = commands.add_parser("test", help="run the test suites")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    backup_parser = commands.add_parser("backup", help="dump every service's database into one archive")
    backup_parser.add_argument("directory", nargs="?", default=str(ROOT / "backups"))
    restore_parser = commands.add_parser("restore", help="load an archive made by backup")
    restore_parser.add_argument("file")
    commands.add_parser("monitor", help="run Prometheus against a running `make run`")
    args = parser.parse_args()
    sys.exit({"run": run, "test": test, "backup": backup, "restore": restore, "monitor": monitor}[args.command](args))


if __name__ == "__main__":
    main()
