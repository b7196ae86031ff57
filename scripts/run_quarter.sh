#!/usr/bin/env bash
# The README's first command: set everything up, then run a real quarter against the sandbox
# (embedded defaults: SQLite, local files under ./.airflow) and print where the report and
# the receipt are. Options: see `scripts/run_quarter.sh --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh
exec .venv/bin/python -m parreport.demo "$@"
