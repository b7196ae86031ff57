"""Airflow plugin of the quarterly report: registers the reporting-window timetable and the
deadline reference, so that Airflow 3 can (de)serialize a DAG that uses them.

Airflow 3 stores DAGs serialized; a custom timetable (``schedule=ReportingWindowTimetable(...)``)
and a custom deadline reference (``deadline=alerts.deadline_alert()``) are found again by the
scheduler, the DAG processor and the API server only through a plugin's ``timetables`` and
``deadline_references``. The plugin is registered by the package's ``airflow.plugins`` entry
point, so every component that has the package installed loads it (no plugins folder).
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from parreport.calendar_timetable import ReportingDeadline, ReportingWindowTimetable


class ReportingCalendarPlugin(AirflowPlugin):
    name = "parreport_reporting_calendar"
    timetables = [ReportingWindowTimetable]
    deadline_references = [ReportingDeadline]
