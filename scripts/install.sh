# Sourced by run_quarter.sh and serve.sh: everything an embedded installation needs before it runs.
#   .venv (setup.sh), this checkout's AIRFLOW_HOME (airflow_env.sh), Airflow's metadata database,
#   the pipeline's store (parreport db upgrade) and the dvc_portal pool that bounds how many tasks
#   call the portal at once (PARREPORT_PORTAL_POOL_SLOTS, default 4; the scheduler runs no task
#   whose pool is missing). Idempotent.
bash scripts/setup.sh
source scripts/airflow_env.sh
if ! .venv/bin/airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1; then
  echo "✗ không tạo/nâng cấp được cơ sở dữ liệu của Airflow; xem nhật ký $AIRFLOW_HOME/db-migrate.log" >&2
  exit 1
fi
.venv/bin/parreport db upgrade
if ! .venv/bin/airflow pools set dvc_portal "${PARREPORT_PORTAL_POOL_SLOTS:-4}" "Cổng DVC: số nhiệm vụ gọi cổng cùng lúc" \
    > "$AIRFLOW_HOME/pools.log" 2>&1; then
  echo "✗ không tạo được pool dvc_portal; xem nhật ký $AIRFLOW_HOME/pools.log" >&2
  exit 1
fi
