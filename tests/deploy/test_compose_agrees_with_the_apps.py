"""docker-compose.yml, the Dockerfiles and the apps' own settings must agree; checked without a Docker engine."""

import importlib
import re
from pathlib import Path

import pytest
import yaml

from library_common.config import COMMON_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APPS = {  # compose service -> (package, the seed's port, its database)
    "books-service": ("books_service", 5000, "books"),
    "user-service": ("user_service", 5001, "users"),
    "borrow-service": ("borrow_service", 5002, "borrows"),
    "notification-service": ("notification_service", 5003, "notifications"),
    "web-frontend": ("web_frontend", 8000, None),
}
SECRETS = {"user-service": "SECRET_KEY", "web-frontend": "SECRET_KEY", "borrow-service": "HISTORY_PSEUDONYM_KEY",
           "notification-service": "SERVICE_SECRET", "books-service": "SERVICE_SECRET"}
WORKERS = {"borrow-worker": ("borrow-service", "borrow_service"),  # compose worker -> (its service, package)
           "notification-worker": ("notification-service", "notification_service"),
           "books-worker": ("books-service", "books_service")}
# Read by gunicorn_conf or the container entrypoint rather than by the app's settings.
PROCESS_SETTINGS = {"BIND", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT", "WEB_GRACEFUL_TIMEOUT",
                    "MIGRATE_ON_START", "SCRIPT_NAME", "FRONTEND_SECRET_KEY"}


def environment(service):
    return COMPOSE["services"][service]["environment"]


def env_example():
    return dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                if line and not line.startswith("#"))


def dockerfile(service):
    return (ROOT / service / "Dockerfile").read_text()


@pytest.mark.parametrize("service", APPS)
def test_ports_agree_between_compose_dockerfile_and_the_seed(service):
    _package, port, _database = APPS[service]
    text = dockerfile(service)

    assert COMPOSE["services"][service]["ports"][0].endswith(f"{port}:{port}")
    assert f"EXPOSE {port}\n" in text
    assert f"BIND=0.0.0.0:{port}" in text
    assert f"http://127.0.0.1:{port}/health" in text


@pytest.mark.parametrize("service", APPS)
def test_the_image_runs_its_own_package(service):
    package = APPS[service][0]

    assert f'CMD ["python", "-m", "library_common.serve", "{package}"]' in dockerfile(service)
    assert (ROOT / service / package / "__init__.py").exists()


@pytest.mark.parametrize("service", APPS)
def test_the_health_check_path_is_served(service):
    package = APPS[service][0]
    app = importlib.import_module(package).create_app({"DATABASE_URL": "postgresql://x@unused/x", "TESTING": True})

    assert app.test_client().get("/health").status_code == 200


@pytest.mark.parametrize("service", APPS)
def test_every_variable_compose_sets_is_a_setting_the_app_reads(service):
    package = importlib.import_module(APPS[service][0])
    known = set(COMMON_DEFAULTS) | set(package.DEFAULTS) | PROCESS_SETTINGS

    assert set(environment(service)) - known == set()


@pytest.mark.parametrize("service", [s for s, (_p, _port, database) in APPS.items() if database])
def test_each_database_service_gets_its_own_database(service):
    env = environment(service)
    created = re.search(r"for database in ([\w ]+); do", (ROOT / "deploy/postgres/init-databases.sh").read_text())

    assert env["DB_NAME"] == APPS[service][2]
    assert env["DB_NAME"] in created.group(1).split()
    assert {"DB_HOST", "DB_USER", "DB_PASSWORD"} <= set(env)
    assert COMPOSE["services"][service]["depends_on"]["db"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("service, variable", SECRETS.items())
def test_secrets_come_from_the_env_file_and_must_be_set(service, variable):
    assert re.fullmatch(r"\$\{\w+:\?.+\}", environment(service)[variable])


@pytest.mark.parametrize("service", APPS)
def test_service_urls_name_compose_services_on_their_ports(service):
    for name, value in environment(service).items():
        if not name.endswith("_URL"):
            continue
        if name in ("MAILBOX_URL", "SITE_URL"):
            continue  # the mail catcher (checked below), and the site's public address for links in mail
        host, port = re.match(r"http://([\w-]+):(\d+)", value).groups()
        assert host in APPS, f"{service} {name} points at unknown service {host}"
        assert int(port) == APPS[host][1], f"{service} {name} uses the wrong port for {host}"


def test_the_jwks_url_is_user_services_route():
    from user_service import create_app

    app = create_app({"DATABASE_URL": "postgresql://x@unused/x", "TESTING": True})
    path = environment("books-service")["JWKS_URL"].split(":5001", 1)[1]

    assert path in {rule.rule for rule in app.url_map.iter_rules()}


@pytest.mark.parametrize("service", [s for s in APPS if s != "web-frontend"])
def test_the_services_are_published_on_loopback_only(service):
    port = APPS[service][1]

    assert COMPOSE["services"][service]["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_only_the_web_frontend_is_published_on_every_interface():
    assert COMPOSE["services"]["web-frontend"]["ports"] == ["8000:8000"]


def test_postgres_is_not_published_unless_an_override_asks():
    override = yaml.safe_load((ROOT / "docker-compose.override.example.yml").read_text())

    assert "ports" not in COMPOSE["services"]["db"]
    assert override["services"]["db"]["ports"] == ["127.0.0.1:5432:5432"]


def test_the_services_trust_forwarded_addresses_from_the_frontend_alone():
    import ipaddress

    frontend = COMPOSE["services"]["web-frontend"]["networks"]["library"]["ipv4_address"]
    subnet = COMPOSE["networks"]["library"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(frontend) in ipaddress.ip_network(subnet)
    for service in ("books-service", "user-service", "borrow-service", "notification-service"):
        assert environment(service)["TRUSTED_PROXIES"] == frontend, service
    assert environment("web-frontend")["TRUSTED_PROXIES"] == "${FRONTEND_TRUSTED_PROXIES:-}"


def test_production_refuses_every_secret_the_env_example_shows():
    from library_common.config import is_published

    example = env_example()
    secrets = {name: value for name, value in example.items() if "KEY" in name or "PASSWORD" in name}

    assert {"SECRET_KEY", "FRONTEND_SECRET_KEY", "POSTGRES_PASSWORD"} <= set(secrets)
    assert all(is_published(value) for value in secrets.values())
    assert is_published(example["BOOTSTRAP_LIBRARIAN"].partition(":")[2])


def test_services_wait_for_what_they_call():
    # user-service asks borrow-service about loans only when a librarian deletes an account (and answers
    # 503 while it cannot); borrow-service waits for user-service, so the reverse would be a cycle.
    assert "BORROW_SERVICE_URL" in environment("user-service")
    assert set(COMPOSE["services"]["books-service"]["depends_on"]) == {"db", "user-service"}
    assert set(COMPOSE["services"]["borrow-service"]["depends_on"]) == {"db", "books-service", "user-service"}
    assert set(COMPOSE["services"]["web-frontend"]["depends_on"]) == {"books-service", "user-service",
                                                                      "borrow-service", "notification-service"}
    # notification-service reads the feeds when they answer (and waits, reading later, when they do not)
    assert set(COMPOSE["services"]["notification-service"]["depends_on"]) == {"db", "user-service"}


def test_the_env_example_sets_every_variable_compose_requires():
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = env_example()

    assert required <= set(example)
    assert ".env\n" in (ROOT / ".gitignore").read_text()


def test_the_database_names_match_make_run():
    stack = (ROOT / "scripts/stack.py").read_text()

    for _package, _port, database in APPS.values():
        if database:
            assert f'("{database}", ' in stack


@pytest.mark.parametrize("worker", WORKERS)
def test_a_worker_runs_its_service_s_image_and_settings_with_the_worker_command(worker):
    service, package = WORKERS[worker]
    definition = COMPOSE["services"][worker]

    assert definition["build"] == COMPOSE["services"][service]["build"]
    assert definition["command"] == ["python", "-m", "library_common.worker", package]
    assert definition["depends_on"][service]["condition"] == "service_healthy"  # its database is migrated
    assert "ports" not in definition
    known = set(COMMON_DEFAULTS) | set(importlib.import_module(package).DEFAULTS)
    assert set(definition["environment"]) - known == set()
    assert definition["environment"]["DB_NAME"] == environment(service)["DB_NAME"]
    assert (importlib.import_module(f"{package}.jobs").schedule(importlib.import_module(package).DEFAULTS))


@pytest.mark.parametrize("setting, services", [
    ("NOTIFICATION_SERVICE_SECRET", ("notification-service", "notification-worker")),
    ("BOOKS_SERVICE_SECRET", ("books-service", "books-worker")),
])
def test_user_service_and_each_service_acting_as_itself_share_its_secret_from_the_env_file(setting, services):
    secret = f"${{{setting}:?set {setting} in .env}}"

    assert environment("user-service")[setting] == secret
    for service in services:
        assert environment(service)["SERVICE_SECRET"] == secret


def test_the_mail_catcher_runs_only_in_the_dev_profile_and_mail_goes_where_the_env_file_says():
    from library_common.config import MAIL_CATCHER_HOST, MAIL_CATCHER_SMTP_PORT

    catcher = COMPOSE["services"][MAIL_CATCHER_HOST]
    smtp_port = catcher["command"][catcher["command"].index("--smtp-port") + 1]
    http_port = catcher["command"][catcher["command"].index("--http-port") + 1]

    assert catcher["profiles"] == ["dev"]  # `docker-compose up` alone starts no catcher
    assert catcher["command"][:3] == ["python", "-m", "library_common.mailcatcher"]
    assert int(smtp_port) == MAIL_CATCHER_SMTP_PORT and catcher["ports"] == [f"127.0.0.1:{http_port}:{http_port}"]
    for service in ("notification-service", "notification-worker"):  # no default: nothing falls back to it
        assert environment(service)["SMTP_HOST"] == "${SMTP_HOST:?set SMTP_HOST in .env}"
        assert environment(service)["SMTP_PORT"] == "${SMTP_PORT:?set SMTP_PORT in .env}"
    assert environment("web-frontend")["MAILBOX_URL"] == f"${{MAILBOX_URL:-http://{MAIL_CATCHER_HOST}:{http_port}}}"
    # the example is for development: the catcher, started by its profile
    example = env_example()
    assert (example["SMTP_HOST"], example["SMTP_PORT"]) == (MAIL_CATCHER_HOST, smtp_port)
    assert example["COMPOSE_PROFILES"] == "dev"


@pytest.mark.parametrize("host, port", [("mailcatcher", 1025), ("127.0.0.1", 1025), ("localhost", 1025),
                                        ("::1", 1025)])
def test_production_refuses_to_mail_through_the_development_mail_catcher(host, port):
    from notification_service import create_app

    with pytest.raises(RuntimeError, match="Refusing to start in production: .*the development mail catcher"):
        create_app({"APP_ENV": "production", "DATABASE_URL": "postgresql://x@unused/x", "SMTP_HOST": host,
                    "SMTP_PORT": port, "SERVICE_SECRET": "k2Hq8Zr5Tw1Lp7Nc4Vb9Xm3Jd6Fg0Sa-notifier"})


@pytest.mark.parametrize("settings", [{"SMTP_HOST": "smtp.example.org", "SMTP_PORT": 587},
                                      {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 25},  # a relay beside the service
                                      {"MAIL_TRANSPORT": "ses"}])  # as in AWS, SMTP_HOST left at its default
def test_production_mails_through_a_real_server(settings, monkeypatch):
    from notification_service import create_app

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # SES's client is made, never called
    create_app({"APP_ENV": "production", "DATABASE_URL": "postgresql://x@unused/x",
                "SERVICE_SECRET": "k2Hq8Zr5Tw1Lp7Nc4Vb9Xm3Jd6Fg0Sa-notifier", **settings})


# Each secret of .env, and the only containers given it: a compromise of one process (books-service parses
# uploaded files) reveals no secret it does not use.
SECRET_HOLDERS = {
    "SECRET_KEY": {"user-service"},
    "LINK_SECRET_KEY": {"user-service"},
    "FRONTEND_SECRET_KEY": {"web-frontend", "user-service"},  # user-service's entrypoint compares, then drops it
    "HISTORY_PSEUDONYM_KEY": {"borrow-service", "borrow-worker"},
    "NOTIFICATION_SERVICE_SECRET": {"user-service", "notification-service", "notification-worker"},
    "BOOKS_SERVICE_SECRET": {"user-service", "books-service", "books-worker"},
    "SMTP_PASSWORD": {"notification-service", "notification-worker"},
    "POSTGRES_PASSWORD": {"db", "user-service", "books-service", "books-worker", "borrow-service", "borrow-worker",
                          "notification-service", "notification-worker"},
}


def test_each_secret_reaches_only_the_containers_that_use_it():
    holders = {}
    for name, service in COMPOSE["services"].items():
        environment = service.get("environment") or {}
        for value in (environment.values() if isinstance(environment, dict) else environment):
            for variable in re.findall(r"\$\{([A-Z_]+)", str(value)):
                holders.setdefault(variable, set()).add(name)
    secrets = {name: given for name, given in holders.items() if re.search("SECRET|KEY|PASSWORD", name)}

    assert secrets == SECRET_HOLDERS
