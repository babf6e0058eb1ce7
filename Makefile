# The two commands a user needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PHOTONDRIFT_HOME ?= $(CURDIR)/var

.PHONY: run test lint bench worker beat install install-dev chromium

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) -m photondrift.embedded

# Debian's chromium for the browser tests, when we may install it (root) and it is missing.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; fi

test: install-dev chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: install-dev
	$(PY) benchmarks/train_overhead.py

# Production processes (see Procfile); need DATABASE_URL and REDIS_URL.
worker: install
	$(VENV)/bin/celery -A photondrift worker -Q training,default --loglevel=INFO --max-tasks-per-child=1

beat: install
	$(VENV)/bin/celery -A photondrift beat --loglevel=INFO
