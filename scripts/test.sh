#!/usr/bin/env bash
# The test command: installs everything the tests need and runs all of them.
#   1. Debian packages: PostgreSQL server binaries and Chromium (scripts/install-system-deps.sh)
#   2. a virtualenv (.venv, or $VENV) with the package and its [test] extras
#   3. ruff (lint + format check), mypy --strict on the package, pytest: unit tests, SQLite and a
#      real PostgreSQL server started by the tests, real TensorFlow/Keras, headless Chromium,
#      and the notebooks under nbval.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k views`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

VENV="${VENV:-.venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c scripts/constraints-test.txt -e ".[test]"

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy (strict, zenml_widgets)"
"$VENV/bin/mypy"
echo "== pytest"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
"$VENV/bin/pytest" tests notebooks --nbval --nbval-current-env \
    --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider "$@"
