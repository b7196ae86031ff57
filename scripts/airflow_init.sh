#!/usr/bin/env bash
# The init service of docker-compose.yaml (tests/system/test_production_stack.py runs this same file):
#   1. Airflow's metadata database (`airflow db migrate`; with the FAB auth manager configured it
#      migrates the users and roles tables too);
#   2. the pipeline's store (`parreport db upgrade`: creates the PostgreSQL database when missing,
#      creates or upgrades its schema, keeps every row);
#   3. the artefacts' storage (`parreport storage check`: PARREPORT_STORAGE_URL, e.g. an
#      S3 bucket through the connection PARREPORT_STORAGE_CONN_ID, else the local data directory;
#      creates the bucket when missing, then writes, reads and removes one object);
#   4. the pool `dvc_portal` that bounds how many tasks call the portal at once
#      (PARREPORT_PORTAL_POOL_SLOTS, default 4; the scheduler runs no task whose pool is missing);
#   5. the people who log in (FAB auth manager), each password read from a secret file — never
#      from this file, the compose file or the image:
#        AIRFLOW_ADMIN_USERNAME    (default admin)    role Admin, password in AIRFLOW_ADMIN_PASSWORD_FILE
#        AIRFLOW_OPERATOR_USERNAME (default operator) role Op,    password in AIRFLOW_OPERATOR_PASSWORD_FILE
#      (defaults: /run/secrets/airflow_admin_password, /run/secrets/airflow_operator_password).
#      An existing user keeps its account and gets the secret's current password.
# Idempotent: run it again after every upgrade of the image.
set -euo pipefail

ADMIN_USER="${AIRFLOW_ADMIN_USERNAME:-admin}"
ADMIN_FILE="${AIRFLOW_ADMIN_PASSWORD_FILE:-/run/secrets/airflow_admin_password}"
OPERATOR_USER="${AIRFLOW_OPERATOR_USERNAME:-operator}"
OPERATOR_FILE="${AIRFLOW_OPERATOR_PASSWORD_FILE:-/run/secrets/airflow_operator_password}"

read_secret() {  # the first line of a secret file, refused when missing or empty
  local file="$1" value
  [ -r "$file" ] || { echo "airflow-init: secret file $file is missing (see .env.example)" >&2; return 1; }
  IFS= read -r value < "$file" || true
  [ -n "$value" ] || { echo "airflow-init: secret file $file is empty" >&2; return 1; }
  printf '%s' "$value"
}

ensure_user() {  # username role password-file
  local user="$1" role="$2" password
  password="$(read_secret "$3")"
  airflow users create --username "$user" --role "$role" --firstname "$user" --lastname "$role" \
    --email "$user@parreport.invalid" --password "$password"
  airflow users reset-password --username "$user" --password "$password"
}

# Refuse early, before touching any database, when a secret is missing.
read_secret "$ADMIN_FILE" > /dev/null
read_secret "$OPERATOR_FILE" > /dev/null

echo "airflow-init: airflow db migrate"
airflow db migrate
echo "airflow-init: parreport db upgrade"
parreport db upgrade
echo "airflow-init: storage ${PARREPORT_STORAGE_URL:-(PARREPORT_DATA_DIR)}"
parreport storage check
echo "airflow-init: pool dvc_portal (${PARREPORT_PORTAL_POOL_SLOTS:-4} slots)"
airflow pools set dvc_portal "${PARREPORT_PORTAL_POOL_SLOTS:-4}" "Cổng DVC: số nhiệm vụ gọi cổng cùng lúc"
echo "airflow-init: users $ADMIN_USER (Admin), $OPERATOR_USER (Op)"
ensure_user "$ADMIN_USER" Admin "$ADMIN_FILE"
ensure_user "$OPERATOR_USER" Op "$OPERATOR_FILE"
echo "airflow-init: done"
