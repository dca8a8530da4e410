# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PACKAGES := library-common user-service books-service borrow-service web-frontend
HTMX := web-frontend/web_frontend/static/vendor/htmx.min.js

CHROMIUM_PATH ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install chromium run dev lint test screenshots clean

$(INSTALLED): requirements-dev.txt constraints.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt $(foreach p,$(PACKAGES),-e $(p))
	touch $@

# htmx, pinned and checked against its integrity hash (see web_frontend/assets.py)
$(HTMX): web-frontend/web_frontend/assets.py | $(INSTALLED)
	@if command -v npm >/dev/null; then $(PY) -c 'from web_frontend.assets import vendor_htmx; vendor_htmx()'; \
	else echo "npm not found: pages will load htmx from its CDN instead"; fi

install: $(INSTALLED) $(HTMX)

chromium:  ## the browser the e2e tests drive (Debian's package; Playwright cannot download its own here)
	@test -x "$(CHROMIUM_PATH)" || { command -v apt-get >/dev/null \
	  && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; } \
	  || { echo "Install Chromium (or Chrome) and set CHROMIUM_PATH to run the browser tests"; exit 1; }

run: install  ## run the whole system in the foreground (Ctrl-C stops it)
	$(PY) scripts/stack.py run

dev: install  ## like run, with Flask's reloader
	$(PY) scripts/stack.py run --dev

lint: install  ## static checks (ruff)
	$(VENV)/bin/ruff check .

test: install chromium lint  ## lint, then every test suite against a throwaway embedded PostgreSQL
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) scripts/stack.py test $(PYTEST_ARGS)

screenshots: install chromium  ## refresh the README's screenshots (docs/screenshots) from the e2e suite
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) scripts/stack.py test e2e

clean:  ## remove the virtualenv and the development database
	rm -rf $(VENV) .data
