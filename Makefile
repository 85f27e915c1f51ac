# Cascade — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test install demo bench lint messages clean

$(BIN)/cascade: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(BIN)/cascade

install: $(BIN)/cascade

## Run Cascade: migrate, load the demo site when the database is empty, bill up to today, serve, with
## the periodic pass (`cascade tick`) running beside the server.
run: install
	@mkdir -p var
	$(BIN)/cascade migrate --noinput
	$(BIN)/cascade demo
	@# The periodic pass (issue what is due, e-mail it, reminders, alerts) runs beside the server, hourly.
	$(BIN)/cascade tick --every 3600 & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/cascade runserver 127.0.0.1:$(PORT)

## Run the whole test suite: SQLite, then PostgreSQL when one answers, browser tests included.
test: install
	@bash scripts/test.sh

## Benchmarks (figures go to docs/benchmarks.md).
bench: install
	$(BIN)/python scripts/bench.py

lint: install
	$(BIN)/python -m ruff check cascade tests scripts

clean:
	rm -rf var/*.sqlite3* var/media
