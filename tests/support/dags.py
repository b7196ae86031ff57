"""A probe DAG on the reporting-window timetable with the deadline alert, for the timetable and alert tests."""

PROBE_DAG = '''
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from parreport.alerts import deadline_alert, notify_failure
from parreport.calendar_timetable import ReportingWindowTimetable


@dag(dag_id="calendar_probe", schedule=ReportingWindowTimetable(rule="nd09", delay=timedelta(hours=12)),
     start_date=pendulum.datetime(2023, 12, 15, tz="Asia/Ho_Chi_Minh"), catchup=True,
     deadline=deadline_alert(), default_args={"on_failure_callback": notify_failure})
def calendar_probe():
    @task
    def noop():
        return 1

    noop()


calendar_probe()
'''
