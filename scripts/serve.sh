#!/usr/bin/env bash
# The embedded installation with its UI, in one command: set up (scripts/install.sh: .venv,
# AIRFLOW_HOME, metadata database, the store, the pool), then start the sandbox and Airflow (API server, scheduler, DAG processor, triggerer)
# on 127.0.0.1, print the URL and the login, and run until Ctrl-C. Logic: include/parreport/serve/.
#   PARREPORT_ADMIN_PASSWORD=... scripts/serve.sh [--port 8080] [--dossiers-per-quarter N] ...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/install.sh
exec .venv/bin/python -m parreport.serve "$@"
