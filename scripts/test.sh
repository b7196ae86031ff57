#!/usr/bin/env bash
# The README's second command: set everything up, then run the whole test suite.
# Tests start what they need themselves (sandbox servers, Airflow) on 127.0.0.1 and stop it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/system_deps.sh
exec .venv/bin/python -m pytest "$@"
