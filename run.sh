#!/usr/bin/env bash
# digitpad's two commands. Each one sets up what it needs first, so both work on a fresh machine:
#
#   ./run.sh start    a Python venv with the dependencies, then the app on http://127.0.0.1:8000
#   ./run.sh test     the same venv plus the test tools (and what the browser tests need),
#                     then lint, type checks and the whole test suite
#
# Environment: PYTHON (default python3, must be ≥ 3.11), HOST, PORT (default 127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "error: $PYTHON is $("$PYTHON" --version 2>&1); digitpad needs Python 3.11 or newer" >&2; exit 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  say "installing the Python dependencies ($1)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$1]"
}

case "${1:-}" in
  start)
    setup_python train
    say "starting digitpad on http://${HOST:-127.0.0.1}:${PORT:-8000}"
    exec "$VENV/bin/python" -m uvicorn app.main:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
    ;;
  test)
    setup_python dev
    say "ruff"
    "$VENV/bin/ruff" check .
    say "mypy --strict"
    "$VENV/bin/mypy"
    say "pytest"
    exec "$VENV/bin/python" -m pytest "${@:2}"
    ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
