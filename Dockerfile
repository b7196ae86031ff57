# The production image: Airflow's official image plus this product, pinned by constraints.txt.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:0 constraints.txt pyproject.toml README.md /opt/parreport/
COPY --chown=airflow:0 include /opt/parreport/include
RUN pip install --no-cache-dir -c /opt/parreport/constraints.txt /opt/parreport
# The rulebook (include/parreport/expectations/*.json) is package data: fail the build if the image lacks it.
RUN python -c "from parreport.quality.suites import load_suite_dicts; load_suite_dicts()"
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
