#!/usr/bin/env bash
# The embedded installation with its UI, in one command: set up (.venv, AIRFLOW_HOME, metadata
# database), then start the sandbox and Airflow (API server, scheduler, DAG processor, triggerer)
# on 127.0.0.1, print the URL and the login, and run until Ctrl-C. Logic: include/parreport/serve.py.
#   PARREPORT_ADMIN_PASSWORD=... scripts/serve.sh [--port 8080] [--dossiers-per-quarter N] ...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
source scripts/airflow_env.sh
if ! .venv/bin/airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1; then
  echo "✗ không tạo/nâng cấp được cơ sở dữ liệu của Airflow; xem nhật ký $AIRFLOW_HOME/db-migrate.log" >&2
  exit 1
fi
exec .venv/bin/python -m parreport.serve "$@"
