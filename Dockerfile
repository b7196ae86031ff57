# The production image: Airflow's official image plus this product, pinned by constraints.txt,
# with everything the pipeline reads at run time: the package (its store migrations and the
# sandbox's contracts and the Great Expectations rulebook are package data; its Airflow plugins
# register through the package's `airflow.plugins` entry points), the DAGs, the specification
# (docs/) and the init script.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:0 constraints.txt pyproject.toml README.md /opt/parreport/
COPY --chown=airflow:0 include /opt/parreport/include
# include/parreport/sandbox/contracts/ links to docs/contracts/: both must be there for the build
COPY --chown=airflow:0 docs /opt/parreport/docs
RUN pip install --no-cache-dir -c /opt/parreport/constraints.txt /opt/parreport
COPY --chown=airflow:0 scripts/airflow_init.sh /opt/parreport/scripts/airflow_init.sh
# The FAB auth manager's Flask settings (AIRFLOW__FAB__CONFIG_FILE): the login rate limiter in Redis.
COPY --chown=airflow:0 deploy/webserver_config.py /opt/parreport/webserver_config.py
# The rulebook (include/parreport/expectations/*.json) is package data: fail the build if the image lacks it.
RUN python -c "from parreport.quality.suites import load_suite_dicts; load_suite_dicts()"
COPY --chown=airflow:0 dags /opt/airflow/dags
# Each container's own scratch (PARREPORT_DATA_DIR; the artefacts go to PARREPORT_STORAGE_URL) and
# the configuration mount, owned by airflow.
RUN mkdir -p /opt/airflow/parreport /opt/airflow/config
