#!/usr/bin/env bash
# digitpad's two commands. Each one sets up what it needs first, so both work on a fresh machine:
#
#   ./run.sh start           a Python venv with the dependencies, then the app on http://127.0.0.1:8000
#   ./run.sh test            the same venv plus the test tools (and what the browser, storage and
#                            container tests need), then lint, type checks and the whole test suite
#   ./run.sh test --quick    the fast loop: lint and every test but the slow, browser and container ones
#
#   DIGITPAD_PORT=8080 ./run.sh start                  another port (PORT=8080 is a short form)
#   DIGITPAD_HOST=0.0.0.0 ./run.sh start               every address of this machine (HOST: short form)
#
# Extra arguments after `test` (or `test --quick`) go to pytest, e.g. ./run.sh test tests/api -x.
# Environment: PYTHON (default python3, must be ≥ 3.11), and the app's DIGITPAD_* settings
# (digitpad-serve --help lists them). pip runs only when pyproject.toml or requirements.lock changed.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

say() {   # a step, in bold on a terminal
  if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}

setup_python() {   # setup_python EXTRA...: the venv, with digitpad and these extras installed
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || { echo "error: $PYTHON is $("$PYTHON" --version 2>&1); digitpad needs Python 3.11 or newer" >&2; exit 1; }
    say "creating the virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # pip runs again only when what it installs from changed, once per extra (a stamp each): an
  # unchanged checkout starts at once, whichever of start and test ran before.
  local want extra stale=false extras
  want=$(cat pyproject.toml requirements.lock 2>/dev/null | sha256sum | cut -d' ' -f1)
  for extra in "$@"; do
    [ "$(cat "$VENV/.installed-$extra" 2>/dev/null)" = "$want" ] || stale=true
  done
  if $stale; then
    extras=$(IFS=,; echo "$*")
    say "installing the Python dependencies ($extras)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
    for extra in "$@"; do echo "$want" > "$VENV/.installed-$extra"; done
  fi
}

apt_install() {   # apt_install PACKAGE WHAT-FAILS-WITHOUT-IT: Debian's package, when root can install it
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $1 (apt-get install $1)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "warning: $1 is missing; install it (sudo apt-get install $1) or $2 fail" >&2
  fi
}

setup_chromium() {   # the browser tests drive Debian's Chromium (Playwright's own download does not work offline)
  [ -x /usr/bin/chromium ] || apt_install chromium "the browser tests"
}

setup_postgresql() {   # the storage tests start a throwaway PostgreSQL server (tests/postgres.py)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql "the storage tests"
}

setup_npm_assets() {   # axe-core, injected into the pages by the accessibility tests (never served)
  [ -f build/npm/node_modules/axe-core/axe.min.js ] && return
  if command -v npm >/dev/null; then
    say "installing axe-core from npm (build/npm)"
    mkdir -p build/npm
    (cd build/npm && npm install --no-audit --no-fund --silent axe-core@4.14.1)
  else
    echo "warning: npm is missing; install Node.js (apt-get install npm) or the accessibility tests fail" >&2
  fi
}

setup_container_engine() {   # the container test needs `docker build`/`docker run` to work
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then return; fi
  local engine=../shared/container/setup-engine.sh   # daemonless machines: podman behind the docker CLI
  if [ -x "$engine" ] && [ "$(id -u)" = 0 ]; then
    say "starting a container engine ($engine)"
    eval "$("$engine")"
  else
    echo "warning: no container engine answers 'docker info'; the container test will fail and say so" >&2
  fi
}

case "${1:-}" in
  start)
    setup_python train
    # One BLAS thread per process: a single-image forward pass is faster without thread hand-offs,
    # which on a busy machine cost far more than the product itself (docs/benchmarks.md).
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
    export DIGITPAD_HOST=${DIGITPAD_HOST:-${HOST:-127.0.0.1}} DIGITPAD_PORT=${DIGITPAD_PORT:-${PORT:-8000}}
    say "starting digitpad on http://$DIGITPAD_HOST:$DIGITPAD_PORT"
    exec "$VENV/bin/digitpad-serve"
    ;;
  test)
    shift
    quick=false
    if [ "${1:-}" = --quick ]; then quick=true; shift; fi
    setup_python train dev   # train too: a start after a test then installs nothing
    setup_postgresql
    # One BLAS thread per process, as the server runs: on 2 cores, BLAS's own threads in a test
    # and in the servers it starts fight over the same cores and a fine-tune takes ten times longer.
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
    say "ruff"
    "$VENV/bin/ruff" check .
    if $quick; then
      say "pytest (quick: no slow, browser or container tests)"
      exec "$VENV/bin/python" -m pytest -m "not slow and not browser and not container" "$@"
    fi
    setup_chromium
    setup_npm_assets
    setup_container_engine
    say "mypy --strict"
    "$VENV/bin/mypy"
    say "pytest"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
