#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL when one answers on 127.0.0.1:5432.
# Under CI (CI=true) PostgreSQL and the browser are required: a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Debian packages the suite uses: chromium (browser tests), poppler-utils (pdftotext, pdfsig),
# libnss3-tools (certutil: pdfsig trusts the test certificate authority through an NSS database).
ensure_debian_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdfsig >/dev/null || missing+=(poppler-utils)
  command -v certutil >/dev/null || missing+=(libnss3-tools)
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian packages for the tests: ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
  else
    echo "!! missing: sudo apt-get install -y ${missing[*]}  (the tests that need them will be skipped)"
  fi
}
ensure_debian_packages

pg_answers() {
  $BIN/python - <<'PY' 2>/dev/null
import psycopg
psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
PY
}

echo "== lint (ruff)"
$BIN/python -m ruff check cascade tests scripts

echo "== tests on SQLite"
DATABASE_URL="sqlite:///$(pwd)/var/test-sqlite.sqlite3" $BIN/python -m pytest "$@"

if pg_answers; then
  name="cascade_$$_$(date +%s)"
  echo "== tests on PostgreSQL (fresh database test_$name)"
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$name" $BIN/python -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "!! PostgreSQL does not answer on 127.0.0.1:5432 and CI=true: failing"
  exit 1
else
  echo "== PostgreSQL does not answer on 127.0.0.1:5432: PostgreSQL run skipped"
fi
