"""What Airflow itself loads for this product, registered through the package's entry points
(``[project.entry-points."airflow.plugins"]`` in pyproject.toml): any scheduler, DAG processor,
triggerer, worker or API server that has the package installed finds them, with no plugins folder.

- :mod:`.reporting_calendar` — the reporting-window timetable and the deadline reference, which
  Airflow 3 must find to (de)serialize the DAG;
- :mod:`.parreport_views` — the operator's pages (built on the first request), the "Báo cáo CCHC"
  menu, the run tab and the task links.
"""
