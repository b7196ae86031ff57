#!/usr/bin/env bash
# The README's second command: set everything up, then run the whole test suite.
# Tests start what they need themselves (sandbox servers, Airflow) on 127.0.0.1 and stop it.
# Two pytest-xdist workers (CI has 2 cores): each test file runs whole on one worker, the slow
# files first (tests/conftest.py SLOW_FIRST), so the Airflow runs of one worker overlap the waits
# of the other. Options given to this script come after and win: `scripts/test.sh -n 0` runs in
# one process, `scripts/test.sh tests/test_cli.py` runs one file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/system_deps.sh
exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
