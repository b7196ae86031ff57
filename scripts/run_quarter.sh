#!/usr/bin/env bash
# The README's first command: set everything up, then run a real quarter against the sandbox
# (embedded defaults: SQLite, local files under ./.airflow) and print where the report and
# the receipt are. Options: see `scripts/run_quarter.sh --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
source scripts/airflow_env.sh
.venv/bin/airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }
.venv/bin/parreport db upgrade
# the pool that bounds how many tasks call the portal at once (parreport.limits)
.venv/bin/airflow pools set dvc_portal "${PARREPORT_PORTAL_POOL_SLOTS:-4}" "Cổng DVC: số nhiệm vụ gọi cổng cùng lúc" \
  > "$AIRFLOW_HOME/pools.log" 2>&1 || { cat "$AIRFLOW_HOME/pools.log" >&2; exit 1; }
exec .venv/bin/python -m parreport.demo "$@"
