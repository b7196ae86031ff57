"""Airflow plugin of the quarterly report: registers the reporting-window timetable and the
deadline reference, so that Airflow 3 can (de)serialize a DAG that uses them.

Airflow 3 stores DAGs serialized; a custom timetable (``schedule=ReportingWindowTimetable(...)``)
and a custom deadline reference (``deadline=alerts.deadline_alert()``) are found again by the
scheduler, the DAG processor and the API server only through a plugin's ``timetables`` and
``deadline_references``. Every component must therefore see this folder as its plugins folder
(``AIRFLOW__CORE__PLUGINS_FOLDER``, as ``scripts/airflow_env.sh`` sets it, ``/opt/airflow/plugins``
in the image). The classes themselves live in the installed package (``parreport.calendar_timetable``).
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from parreport.calendar_timetable import ReportingDeadline, ReportingWindowTimetable


class ReportingCalendarPlugin(AirflowPlugin):
    name = "parreport_reporting_calendar"
    timetables = [ReportingWindowTimetable]
    deadline_references = [ReportingDeadline]
