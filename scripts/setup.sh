#!/usr/bin/env bash
# Installs what tradewatch needs on a fresh Debian machine with Python 3.11: the real
# Prometheus/promtool, Alertmanager/amtool and Redis from Debian's packages, and chromium and
# poppler-utils for the report's tests (only the ones missing), then a virtualenv with the
# pinned Python dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v redis-server >/dev/null || need+=(redis-server)
# The report's tests open its HTML in a real headless browser and its PDF with pdftoppm.
command -v chromium >/dev/null || need+=(chromium)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
  echo "setup: installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # Debian's maintainer scripts would start the services system-wide; we start our own per test.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.tradewatch-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the pinned Python dependencies into .venv"
  # pip and setuptools are chatty about things that are not ours to fix; show their output on failure.
  if ! .venv/bin/python -m pip install -q -e '.[generator,dev]' >.venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    exit 1
  fi
  touch "$stamp"
fi
