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

## Run Cascade: migrate, load the demo site when the database is empty, bill up to today, run the
## daily pass (signature reminders and expiries, end-of-convention alerts), serve.
run: install
	@mkdir -p var
	$(BIN)/cascade migrate --noinput
	$(BIN)/cascade demo
	$(BIN)/cascade tick
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
