# Sourced by the scripts: the embedded-default Airflow installation of this checkout.
# One AIRFLOW_HOME is one installation (metadata DB, the pipeline's store, raw extracts, reports).
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$ROOT/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-True}"
# Airflow starts its components as `airflow …` from PATH: this checkout's .venv comes first.
case ":$PATH:" in *":$ROOT/.venv/bin:"*) ;; *) export PATH="$ROOT/.venv/bin:$PATH" ;; esac
# The installation's first scheduled instant, kept by scripts/serve.sh (include/parreport/serve/home.py):
# every process that parses the DAG must see the same timetable.
if [ -z "${PARREPORT_SCHEDULE_FROM:-}" ] && [ -s "$AIRFLOW_HOME/serve/schedule_from" ]; then
  export PARREPORT_SCHEDULE_FROM="$(cat "$AIRFLOW_HOME/serve/schedule_from")"
fi
mkdir -p "$AIRFLOW_HOME"
