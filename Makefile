# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PACKAGES := library-common user-service books-service borrow-service web-frontend
HTMX := web-frontend/web_frontend/static/vendor/htmx.min.js

.PHONY: install run dev test clean

$(INSTALLED): requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt $(foreach p,$(PACKAGES),-e $(p))
	touch $@

# htmx, pinned and checked against its integrity hash (see web_frontend/assets.py)
$(HTMX): web-frontend/web_frontend/assets.py | $(INSTALLED)
	@if command -v npm >/dev/null; then $(PY) -c 'from web_frontend.assets import vendor_htmx; vendor_htmx()'; \
	else echo "npm not found: pages will load htmx from its CDN instead"; fi

install: $(INSTALLED) $(HTMX)

run: install  ## run the whole system in the foreground (Ctrl-C stops it)
	$(PY) scripts/stack.py run

dev: install  ## like run, with Flask's reloader
	$(PY) scripts/stack.py run --dev

test: install  ## every test suite, against a throwaway embedded PostgreSQL
	$(PY) scripts/stack.py test $(PYTEST_ARGS)

clean:  ## remove the virtualenv and the development database
	rm -rf $(VENV) .data
