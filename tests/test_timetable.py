"""The reporting calendar as an Airflow timetable: data intervals are the windows of
INDICATORS.md §1 for every quarter of 2024–2026, runs are due after the window closes plus a
delay, manual runs infer the last closed window, catch-up and backfills walk the quarters, the
timetable serializes and a DAG using it loads and round-trips through Airflow's serialization."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import pendulum  # noqa: E402
import pytest  # noqa: E402
from airflow.timetables.base import DataInterval, TimeRestriction  # noqa: E402

from parreport import calendar_timetable as ct  # noqa: E402
from parreport.calendar_timetable import ReportingWindowTimetable  # noqa: E402
from parreport.config import load_settings  # noqa: E402
from parreport import periods  # noqa: E402
from parreport.periods import closed_window_at, window_for  # noqa: E402
from parreport.pipeline import resolve_period  # noqa: E402
from tests.support.dags import PROBE_DAG

ROOT = Path(__file__).resolve().parents[1]
VN = pendulum.FixedTimezone(7 * 3600)

# INDICATORS.md §1, written out: (year, quarter) -> (data interval start S, data interval end E + 1 s),
# UTC+07:00. The window itself is [S, E] with E = end - 1 s (the 14th 23:59:59 under nd09).
EXPECTED_ND09 = {
    (2024, 1): ("2023-12-15T00:00:00+07:00", "2024-03-15T00:00:00+07:00"),
    (2024, 2): ("2024-03-15T00:00:00+07:00", "2024-06-15T00:00:00+07:00"),
    (2024, 3): ("2024-06-15T00:00:00+07:00", "2024-09-15T00:00:00+07:00"),
    (2024, 4): ("2024-09-15T00:00:00+07:00", "2024-12-15T00:00:00+07:00"),
    (2025, 1): ("2024-12-15T00:00:00+07:00", "2025-03-15T00:00:00+07:00"),
    (2025, 2): ("2025-03-15T00:00:00+07:00", "2025-06-15T00:00:00+07:00"),
    (2025, 3): ("2025-06-15T00:00:00+07:00", "2025-09-15T00:00:00+07:00"),
    (2025, 4): ("2025-09-15T00:00:00+07:00", "2025-12-15T00:00:00+07:00"),
    (2026, 1): ("2025-12-15T00:00:00+07:00", "2026-03-15T00:00:00+07:00"),
    (2026, 2): ("2026-03-15T00:00:00+07:00", "2026-06-15T00:00:00+07:00"),
    (2026, 3): ("2026-06-15T00:00:00+07:00", "2026-09-15T00:00:00+07:00"),
    (2026, 4): ("2026-09-15T00:00:00+07:00", "2026-12-15T00:00:00+07:00"),
}
EXPECTED_CALENDAR = {
    (2024, 1): ("2024-01-01T00:00:00+07:00", "2024-04-01T00:00:00+07:00"),
    (2024, 2): ("2024-04-01T00:00:00+07:00", "2024-07-01T00:00:00+07:00"),
    (2024, 3): ("2024-07-01T00:00:00+07:00", "2024-10-01T00:00:00+07:00"),
    (2024, 4): ("2024-10-01T00:00:00+07:00", "2025-01-01T00:00:00+07:00"),
    (2025, 1): ("2025-01-01T00:00:00+07:00", "2025-04-01T00:00:00+07:00"),
    (2025, 2): ("2025-04-01T00:00:00+07:00", "2025-07-01T00:00:00+07:00"),
    (2025, 3): ("2025-07-01T00:00:00+07:00", "2025-10-01T00:00:00+07:00"),
    (2025, 4): ("2025-10-01T00:00:00+07:00", "2026-01-01T00:00:00+07:00"),
    (2026, 1): ("2026-01-01T00:00:00+07:00", "2026-04-01T00:00:00+07:00"),
    (2026, 2): ("2026-04-01T00:00:00+07:00", "2026-07-01T00:00:00+07:00"),
    (2026, 3): ("2026-07-01T00:00:00+07:00", "2026-10-01T00:00:00+07:00"),
    (2026, 4): ("2026-10-01T00:00:00+07:00", "2027-01-01T00:00:00+07:00"),
}
TABLES = {"nd09": EXPECTED_ND09, "calendar": EXPECTED_CALENDAR}


def at(text: str) -> pendulum.DateTime:
    return pendulum.parse(text)


def local(text: str) -> pendulum.DateTime:
    """A wall-clock time in UTC+07:00, e.g. '2025-03-14 23:59:59'."""
    return pendulum.parse(text, tz=VN)


def walk(tt, restriction, n=None, last=None):
    """The successive DagRunInfos the scheduler would get (each run's interval fed back)."""
    infos = []
    while n is None or len(infos) < n:
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        infos.append(info)
        last = info.data_interval
    return infos


def as_text(interval: DataInterval) -> tuple[str, str]:
    return (interval.start.in_timezone(VN).isoformat(), interval.end.in_timezone(VN).isoformat())


@pytest.mark.parametrize("rule", ["nd09", "calendar"])
def test_every_quarter_2024_2026_is_the_indicators_window(rule):
    expected = TABLES[rule]
    tt = ReportingWindowTimetable(rule=rule)
    start = at(expected[(2024, 1)][0])
    last = at(expected[(2026, 4)][0])  # end_date = the last window's S (inclusive)
    infos = walk(tt, TimeRestriction(earliest=start, latest=last, catchup=True))
    got = {}
    for info in infos:
        w = ct.window_of_interval(info.data_interval, rule)
        got[(w.year, w.quarter)] = as_text(info.data_interval)
        # the run is due one day (the default delay) after the window closes
        assert info.run_after == info.data_interval.end + timedelta(days=1)
        assert info.logical_date == info.data_interval.start
    assert got == expected
    for (year, quarter), (s, e) in expected.items():
        w = window_for(year, quarter, rule)
        # S is the window's first instant, the interval's end the instant right after E
        assert at(s) == w.start_aware() and at(e) == w.end_aware() + timedelta(seconds=1)


@pytest.mark.parametrize("rule", ["nd09", "calendar"])
def test_the_pipeline_recovers_the_quarter_from_the_interval_end(rule):
    settings = replace(load_settings(), window_rule=rule)
    for (year, quarter), (_s, e) in TABLES[rule].items():
        period = resolve_period(settings, year=None, quarter=None, agency=None, run_type="scheduled",
                                interval_end=at(e))
        assert (period.window.year, period.window.quarter, period.window.rule) == (year, quarter, rule)
        assert period.window == window_for(year, quarter, rule)


def test_run_after_is_end_plus_configurable_delay():
    for delay in (timedelta(0), timedelta(hours=6), timedelta(days=2)):
        tt = ReportingWindowTimetable(delay=delay)
        [info] = walk(tt, TimeRestriction(at("2024-12-15T00:00:00+07:00"), None, True), n=1)
        assert info.run_after == local("2025-03-15 00:00:00") + delay


def test_catchup_walks_every_quarter_from_start_date_one_after_another(monkeypatch):
    monkeypatch.setattr(ct, "_utcnow", lambda: local("2025-08-01 10:00:00"))
    tt = ReportingWindowTimetable()
    infos = walk(tt, TimeRestriction(local("2024-06-01 00:00:00"), None, True), n=6)
    starts = [i.data_interval.start.in_timezone(VN).strftime("%Y-%m-%d") for i in infos]
    # start_date 01/06/2024: the first window starting on or after it is Q3 2024
    assert starts == ["2024-06-15", "2024-09-15", "2024-12-15", "2025-03-15", "2025-06-15", "2025-09-15"]
    for a, b in zip(infos, infos[1:]):
        assert a.data_interval.end == b.data_interval.start  # no gap, no overlap


def test_without_catchup_only_the_latest_closed_window_runs(monkeypatch):
    tt = ReportingWindowTimetable()
    no_catchup = TimeRestriction(local("2024-01-01 00:00:00"), None, False)
    # deployed on 01/08/2025: the last window closed is Q2 2025 (closed 15/06/2025), not Q2 2024
    monkeypatch.setattr(ct, "_utcnow", lambda: local("2025-08-01 10:00:00"))
    [first] = walk(tt, no_catchup, n=1)
    assert as_text(first.data_interval) == EXPECTED_ND09[(2025, 2)]
    # deployed between the close and close + delay: that window, due at close + delay (ahead)
    monkeypatch.setattr(ct, "_utcnow", lambda: local("2025-09-15 08:00:00"))
    [first] = walk(tt, no_catchup, n=1)
    assert as_text(first.data_interval) == EXPECTED_ND09[(2025, 3)]
    assert first.run_after == local("2025-09-16 00:00:00")
    # the scheduler was off for a year after Q1 2024: the next run skips to the latest window
    last = DataInterval(at(EXPECTED_ND09[(2024, 1)][0]), at(EXPECTED_ND09[(2024, 1)][1]))
    [nxt] = walk(tt, no_catchup, n=1, last=last)
    assert as_text(nxt.data_interval) == EXPECTED_ND09[(2025, 3)]
    # a run already made for the latest window: the next one is the following quarter (in the future)
    [nxt] = walk(tt, no_catchup, n=1, last=nxt.data_interval)
    assert as_text(nxt.data_interval) == EXPECTED_ND09[(2025, 4)]
    assert nxt.run_after == local("2025-12-16 00:00:00")
    # without a start date and without catch-up, the latest closed window too
    assert as_text(walk(tt, TimeRestriction(None, None, False), n=1)[0].data_interval) == EXPECTED_ND09[(2025, 3)]
    # catch-up without a start date: nothing to start from
    assert tt.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(None, None, True)) is None


def test_restriction_latest_stops_the_sequence():
    tt = ReportingWindowTimetable()
    # latest exactly at Q3 2025's S: inclusive
    infos = walk(tt, TimeRestriction(local("2024-12-15 00:00:00"), local("2025-06-15 00:00:00"), True))
    assert [as_text(i.data_interval) for i in infos] == [EXPECTED_ND09[(2025, q)] for q in (1, 2, 3)]
    # one second earlier: Q3 2025 is out
    infos = walk(tt, TimeRestriction(local("2024-12-15 00:00:00"), local("2025-06-14 23:59:59"), True))
    assert len(infos) == 2
    # end_date before the first window: nothing
    assert walk(tt, TimeRestriction(local("2024-12-15 00:00:00"), local("2024-12-01 00:00:00"), True)) == []


def test_backfill_from_a_utc_midnight_includes_the_window_starting_that_day():
    """`airflow backfill create --from-date 2024-12-15` arrives as midnight UTC (07:00 in Vietnam)."""
    tt = ReportingWindowTimetable()
    infos = walk(tt, TimeRestriction(at("2024-12-15T00:00:00+00:00"), at("2025-06-30T00:00:00+00:00"), True))
    assert [as_text(i.data_interval) for i in infos] == [EXPECTED_ND09[(2025, q)] for q in (1, 2, 3)]
    # start_date later on the window's first day: still that window; the day after: the next one
    assert as_text(walk(tt, TimeRestriction(local("2024-12-15 23:00:00"), None, True), n=1)[0].data_interval) \
        == EXPECTED_ND09[(2025, 1)]
    assert as_text(walk(tt, TimeRestriction(local("2024-12-16 00:00:00"), None, True), n=1)[0].data_interval) \
        == EXPECTED_ND09[(2025, 2)]


@pytest.mark.parametrize("rule,e,previous,this", [
    ("nd09", "2025-03-14 23:59:59", (2024, 4), (2025, 1)),
    ("nd09", "2025-12-14 23:59:59", (2025, 3), (2025, 4)),
    ("calendar", "2025-03-31 23:59:59", (2024, 4), (2025, 1)),
    ("calendar", "2025-12-31 23:59:59", (2025, 3), (2025, 4)),
])
def test_manual_runs_infer_the_last_closed_window(rule, e, previous, this):
    tt = ReportingWindowTimetable(rule=rule, delay=timedelta(days=1))
    table = TABLES[rule]
    moment = local(e)
    # exactly at E the window is still open: the previous one is the last closed
    assert as_text(tt.infer_manual_data_interval(run_after=moment)) == table[previous]
    # half a second later it is still open (the window ends at E + 1 s)
    assert as_text(tt.infer_manual_data_interval(run_after=moment.add(microseconds=500_000))) == table[previous]
    # at E + 1 s it has closed
    assert as_text(tt.infer_manual_data_interval(run_after=moment.add(seconds=1))) == table[this]
    # at E + 1 s + delay (when the scheduled run is due) and in UTC, the same
    assert as_text(tt.infer_manual_data_interval(run_after=moment.add(seconds=1, days=1).in_timezone("UTC"))) \
        == table[this]


def test_serialize_round_trip_and_description():
    tt = ReportingWindowTimetable(rule="calendar", delay=timedelta(hours=6))
    data = json.loads(json.dumps(tt.serialize()))
    assert data == {"rule": "calendar", "delay": 21600.0}
    back = ReportingWindowTimetable.deserialize(data)
    assert back == tt and back.delay == timedelta(hours=6) and back.rule == "calendar"
    default = ReportingWindowTimetable()
    assert default.description == ("Hằng quý, sau khi kỳ số liệu (15 tháng trước quý – 14 tháng cuối quý, "
                                   "UTC+07:00) kết thúc 1 ngày")
    assert default.summary == "Hằng quý (NĐ 09: 15→14), +1 ngày"
    assert tt.description.endswith("kết thúc 6 giờ") and "quý dương lịch" in tt.description
    assert ReportingWindowTimetable(delay=timedelta(days=1, hours=12)).description.endswith("1 ngày 12 giờ")
    assert ReportingWindowTimetable.from_settings(replace(load_settings(), window_rule="calendar")).rule == "calendar"
    from types import SimpleNamespace

    configured = ReportingWindowTimetable.from_settings(SimpleNamespace(window_rule="nd09", schedule_delay_hours=36))
    assert configured.delay == timedelta(hours=36) and configured.description.endswith("1 ngày 12 giờ")


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ReportingWindowTimetable(rule="monthly")
    with pytest.raises(ValueError):
        ReportingWindowTimetable(delay=timedelta(hours=-1))
    with pytest.raises(ValueError):
        ReportingWindowTimetable(delay=3600)  # type: ignore[arg-type]


PROBE = r'''
import json, sys
from datetime import timedelta

from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.decoders import decode_deadline_alert
from airflow.serialization.serialized_objects import DagSerialization

bag = DagBag(dag_folder=sys.argv[1])
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dags)}
dag = bag.dags["calendar_probe"]
data = json.loads(json.dumps(DagSerialization.to_dict(dag)))
back = DagSerialization.from_dict(data)
tt = back.timetable
out["timetable"] = {"class": type(tt).__module__ + "." + type(tt).__qualname__, "equal": tt == dag.timetable,
                    "summary": tt.summary, "description": tt.description, "encoded": data["dag"]["timetable"]}
info = back.next_dagrun_info(last_automated_run_info=None)
out["first_run"] = [info.data_interval.start.isoformat(), info.data_interval.end.isoformat(), info.run_after.isoformat()]
# what `airflow backfill create --from-date 2024-12-15 --to-date 2025-09-30` iterates over
import pendulum
backfill = back.iter_dagrun_infos_between(pendulum.datetime(2024, 12, 15), pendulum.datetime(2025, 9, 30))
out["backfill"] = [[i.data_interval.start.isoformat(), i.data_interval.end.isoformat(), i.run_after.isoformat()]
                   for i in backfill]
alert = decode_deadline_alert(data["dag"]["deadline"][0])


from tests.support.fakes import OneRowSession as Session

end = info.data_interval.end
deadline = alert.reference.evaluate_with(session=Session(("scheduled", {}, end, info.run_after)),
                                         interval=alert.interval, dag_id="calendar_probe", run_id="r")
manual = alert.reference.evaluate_with(session=Session(("manual", {}, end, info.run_after)),
                                       interval=alert.interval, dag_id="calendar_probe", run_id="r")
out["deadline"] = {"reference": data["dag"]["deadline"][0], "kind": type(alert.reference).__name__,
                   "inner": type(getattr(alert.reference, "inner_ref", None)).__name__,
                   "evaluated": deadline.isoformat(), "manual": manual, "callback": alert.callback.path
                   if hasattr(alert.callback, "path") else str(alert.callback)}
print("PROBE=" + json.dumps(out, default=str))
'''


def test_dagbag_loads_a_dag_using_the_timetable_and_it_round_trips(tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "calendar_probe.py").write_text(textwrap.dedent(PROBE_DAG), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PARREPORT"))}
    # an empty plugins folder: the timetable and the deadline reference come from the package's entry point
    (tmp_path / "no-plugins").mkdir()
    env.update({"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(tmp_path / "no-plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(dags)})
    proc = subprocess.run([sys.executable, "-c", PROBE, str(dags)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE=")), None)
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(line.removeprefix("PROBE="))
    assert out["errors"] == {} and out["dags"] == ["calendar_probe"]
    t = out["timetable"]
    assert t["class"] == "parreport.calendar_timetable.ReportingWindowTimetable" and t["equal"]
    assert t["encoded"] == {"__type": "parreport.calendar_timetable.ReportingWindowTimetable",
                            "__var": {"rule": "nd09", "delay": 43200.0}}
    assert t["description"].startswith("Hằng quý, sau khi kỳ số liệu") and t["description"].endswith("12 giờ")
    # start_date 15/12/2023 with catch-up: the first run is Q1 2024, due 12 hours after 15/03/2024 00:00
    first = [pendulum.parse(x) for x in out["first_run"]]
    assert first == [local("2023-12-15 00:00:00"), local("2024-03-15 00:00:00"), local("2024-03-15 12:00:00")]
    # a backfill from 15/12/2024 (midnight UTC) to 30/09/2025 walks Q1..Q4 2025, one after another
    assert [[pendulum.parse(x) for x in b] for b in out["backfill"]] == [
        [at(EXPECTED_ND09[(2025, q)][0]), at(EXPECTED_ND09[(2025, q)][1]),
         at(EXPECTED_ND09[(2025, q)][1]).add(hours=12)] for q in (1, 2, 3, 4)]
    d = out["deadline"]
    assert d["reference"]["reference"] == {"reference_type": "ReportingDeadline", "rule": "nd09", "day": 20,
                                           "__class_path": "parreport.calendar_timetable.ReportingDeadline"}
    assert d["kind"] == "SerializedCustomReference" and d["inner"] == "ReportingDeadline"
    assert pendulum.parse(d["evaluated"]) == local("2024-03-20 23:59:59")
    assert d["manual"] is None
    assert d["callback"] == "parreport.alerts.deadline.on_deadline_missed"


def test_the_package_registers_its_plugins_through_entry_points():
    from importlib.metadata import entry_points

    plugins = {ep.name: ep.load() for ep in entry_points(group="airflow.plugins")}
    plugin = plugins["parreport_reporting_calendar"]
    assert plugin.name and plugin.timetables == [ReportingWindowTimetable]
    assert plugin.deadline_references == [ct.ReportingDeadline]
    assert plugins["parreport_views"].name == "parreport_views"


def test_closed_window_helpers_accept_fractions_of_a_second():
    assert closed_window_at(datetime(2025, 3, 14, 23, 59, 59, 999999)) == window_for(2024, 4)
    assert closed_window_at(datetime(2025, 3, 15)) == window_for(2025, 1)
    assert ct.first_window_from(datetime(2025, 3, 14, 23, 59, 59, 500000)) == window_for(2025, 2)


def test_one_answer_to_which_quarter_a_run_is_about(monkeypatch):
    """A manual run triggered on 16/03/2025 (Q1 2025 closed) whose tasks run, or are cleared, in July
    (Q2 closed by then): the task, the failure alert and the deadline all say Q1 2025, the quarter
    that was closed when the run was created."""
    from types import SimpleNamespace

    from parreport.alerts.messages import _window_from_context

    monkeypatch.setattr(periods, "now_local", lambda: datetime(2025, 7, 1, 9, 0))
    settings = replace(load_settings(), window_rule="nd09")
    run_after = local("2025-03-16 08:00:00")
    period = resolve_period(settings, year=None, quarter=None, agency=None, run_type="manual", run_after=run_after)
    dag_run = SimpleNamespace(run_type="manual", run_after=run_after, data_interval_end=None)
    ti = SimpleNamespace(task_id="report.extract.dossiers", map_index=0, xcom_pull=lambda **kw: None)
    window, _ = _window_from_context({"ti": ti, "dag_run": dag_run, "params": {}}, "nd09")
    assert (period.window.year, period.window.quarter) == (window.year, window.quarter) == (2025, 1)
    # without run_after (outside Airflow) the clock decides; params always win; one without the other is refused
    assert resolve_period(settings, year=None, quarter=None, agency=None).window == window_for(2025, 2)
    assert resolve_period(settings, year=2024, quarter=3, agency=None, run_type="manual",
                          run_after=run_after).window == window_for(2024, 3)
    with pytest.raises(ValueError, match="cả 'year' và 'quarter'"):
        resolve_period(settings, year=2024, quarter=None, agency=None)
