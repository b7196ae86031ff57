"""End to end, province-wide: `airflow dags test quarterly_par_report` without `agency` over five
agencies at once, each with its own intake login and signing key; the portal fails one agency's
dossier listing and the intake refuses another agency's report.

Three agencies must come out with exactly one accepted report each, signed with their own key
and equal, figure by figure, to the independent recomputation (tests/support/expected.py) over
the generator's ground truth; the other two branches must fail where the faults were aimed (at
extraction, at submission) and leave the others reported. `dags test` exits non-zero when one mapped branch fails, so the test
reads the outcome from the intake, the store and Airflow's task instances instead.

The store is on PostgreSQL, by URL (``PARREPORT_STORE_URL``), as in production: the same DAG and
the same figures as with the SQLite store of tests/system/test_e2e.py, every agency's rows in the
one PostgreSQL store and nothing in the installation's SQLite file.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parreport.connections import agency_conn_id
from parreport.periods import window_for
from parreport.report.signing import SignatureInvalid, generate_keypair, verify_body
from parreport.sandbox.generator import GeneratorConfig
from parreport.sandbox.province import generate_province
from parreport.sandbox.runner import run_sandbox
from tests.support.airflow_home import airflow_env, conn_var, http_conn
from tests.support import expected as X

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SEED, PER_QUARTER = 5, 300
YEAR, QUARTER = 2025, 1
AGENCIES = ["000.00.20.H57", "000.00.21.H57", "000.00.22.H57", "000.00.23.H57", "000.00.24.H57"]
HEALTHY, FAILING, REFUSED = AGENCIES[:3], AGENCIES[3], AGENCIES[4]
RUN_TIMEOUT = 300  # seconds for the whole province's `dags test` (~60–150 s measured on 2 shared cores)


def kid_of(agency: str) -> str:
    return "khoa-" + agency.lower()


@pytest.fixture(scope="module")
def keys():
    return {agency: generate_keypair() for agency in AGENCIES}


@pytest.fixture(scope="module")
def province():
    return generate_province(GeneratorConfig(seed=SEED, dossiers_per_quarter=PER_QUARTER), AGENCIES)


@pytest.fixture(scope="module")
def run(new_airflow_home, keys):
    """The sandbox province and one province-wide run, the store on PostgreSQL; yields (sandbox,
    AIRFLOW_HOME, result, seconds, store URL) while PostgreSQL runs."""
    from tests.support import postgres

    home = new_airflow_home(store=False)  # Airflow's database migrated once per session; no SQLite store
    with postgres.temporary_postgres() as store_url:
        yield from _province_run(home, keys, store_url)


def _province_run(home, keys, store_url):
    env = airflow_env(home, PARREPORT_STORE_URL=store_url)
    subprocess.run([str(Path(sys.executable).with_name("parreport")), "db", "upgrade"], env=env, check=True,
                   capture_output=True, timeout=120)
    # The `dvc_portal` pool bounds the portal calls of a province-wide run (where the DAG uses it).
    subprocess.run([AIRFLOW, "pools", "set", "dvc_portal", "2", "Cổng DVC: số tác vụ gọi cùng lúc"], env=env,
                   check=True, capture_output=True, timeout=120)
    public = {kid_of(a): {"pem": keys[a][1], "agency": a} for a in AGENCIES}
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agencies=AGENCIES, public_keys=public,
                     fail_agencies={FAILING: 403}, refuse_agencies=[REFUSED], review_delay=1) as sb:
        run_env = airflow_env(home, PARREPORT_AGENCIES=",".join(AGENCIES), PARREPORT_PAGE_SIZE="200",
                              PARREPORT_RECEIPT_POLL_SECONDS="1", PARREPORT_BLOCKING_THRESHOLD="0.05",
                              PARREPORT_STORE_URL=store_url)
        run_env[conn_var("dvc_portal")] = http_conn(sb.portal_url, *sb.portal_client)
        for agency in AGENCIES:  # no shared intake login or key: each agency must use its own
            run_env[conn_var(agency_conn_id("snv_report_api", agency))] = http_conn(
                sb.intake_url, *sb.intake_client_for(agency))
            run_env[conn_var(agency_conn_id("report_signing_key", agency))] = json.dumps(
                {"conn_type": "generic", "password": keys[agency][0], "extra": {"kid": kid_of(agency)}})
        started = time.monotonic()
        proc = subprocess.run([AIRFLOW, "dags", "test", "quarterly_par_report", "-c",
                               json.dumps({"year": YEAR, "quarter": QUARTER})],
                              env=run_env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        seconds = time.monotonic() - started
        (home / "dags-test.log").write_text(proc.stdout + proc.stderr)
        print(f"province-wide dags test: {len(AGENCIES)} agencies, {PER_QUARTER} dossiers/quarter each, "
              f"{seconds:.0f} s, exit {proc.returncode}")
        yield sb, home, proc, seconds, store_url


def test_every_healthy_agency_has_one_accepted_report_signed_with_its_own_key(run, keys):
    sb, home, proc, _, _ = run
    accepted = sb.accepted()
    by_agency = {}
    for item in accepted:
        by_agency.setdefault(item["body"]["MaDonViBaoCao"], []).append(item)
    assert sorted(by_agency) == sorted(HEALTHY), (proc.stdout + proc.stderr)[-4000:]
    for agency in HEALTHY:
        [item] = by_agency[agency]
        body = item["body"]
        assert body["PhienBan"] == 1 and body["KyBaoCao"]["Nam"] == YEAR and body["KyBaoCao"]["Quy"] == QUARTER
        assert verify_body(body, {kid_of(agency): keys[agency][1]}) == kid_of(agency)
        for other in AGENCIES:
            if other != agency:  # no other agency's key verifies it
                with pytest.raises(SignatureInvalid):
                    verify_body(body, {kid_of(agency): keys[other][1]})
        assert item["receipt"]["MaDonViBaoCao"] == agency
    # each agency signed in through its own intake login
    posts = [r for r in sb.intake_requests() if r["status"] == 201]
    assert sorted((r["client_id"], r["MaDonViBaoCao"]) for r in posts) == \
           sorted((sb.intake_client_for(a)[0], a) for a in HEALTHY)


def store_rows(url: str, sql: str, **params) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql), params)]
    finally:
        engine.dispose()


def test_the_figures_of_each_agency_equal_the_definition(run, province):
    sb, home, _, _, store_url = run
    bodies = {item["body"]["MaDonViBaoCao"]: item["body"] for item in sb.accepted()}
    quarantined = dict(store_rows(store_url, "select agency, count(*) from quarantine where kind='dossier' "
                                             "and window_key=:key group by agency", key=window_for(YEAR, QUARTER).key))
    for agency in HEALTHY:
        ds, body = province.dataset(agency), bodies[agency]
        w, surviving, valid, ratings = X.truth(ds, agency, window_for(YEAR, QUARTER))
        procedures = ds.procedures_of(agency)
        assert body["Bieu06"] == X.bieu06(valid, procedures, w.start, w.end), agency
        want = X.indicators(valid, ratings, procedures, ds.units, agency, w.start, w.end, YEAR)
        got = {(c["MaChiTieu"], c["PhamVi"]): (c["TuSo"], c["MauSo"]) for c in body["ChiTieu"]}
        assert got == want, agency
        quality = body["ChatLuongDuLieu"]
        assert quality["SoBanGhi"] == len({d["MaHoSo"] for d in surviving})
        assert quality["SoBanGhiLoai"] == len({d["MaHoSo"] for d in surviving if d["MaHoSo"] in ds.invalid})
        assert quarantined.get(agency) == quality["SoBanGhiLoai"] > 0, agency  # kept in the PostgreSQL store
        root = next(u for u in ds.units if u["MaDonVi"] == agency)
        assert body["TenDonViBaoCao"] == root["TenDonVi"]
    assert len({json.dumps(bodies[a]["Bieu06"]) for a in HEALTHY}) == len(HEALTHY), "three different quarters"
    assert not (home / "parreport" / "store.db").exists()  # the store is where its URL says, nowhere else


def test_the_failing_agencies_fail_their_own_branches_and_nothing_else(run):
    sb, home, proc, _, _ = run
    assert proc.returncode != 0, "a failed mapped branch fails the run"
    refused = [r for r in sb.portal_requests() if r["path"] == "/api/v1/ho-so" and r["status"] == 403]
    assert refused and {r["query"]["ma_don_vi"] for r in refused} == {FAILING}
    db = sqlite3.connect(home / "airflow.db")
    states = {(task, index): state for task, index, state in db.execute(
        "select task_id, map_index, state from task_instance where dag_id='quarterly_par_report'")}
    periods = {index: json.loads(value) for index, value in db.execute(
        "select map_index, value from xcom where dag_id='quarterly_par_report' "
        "and task_id='report.resolve_period' and key='return_value'")}
    db.close()
    branch = {period["agency"]: index for index, period in periods.items()}  # which mapped branch is whose
    assert sorted(branch) == sorted(AGENCIES)
    failing = branch[FAILING]
    assert states[("report.extract.dossiers", failing)] == "failed"
    assert states[("report.submit_report", failing)] == "upstream_failed"
    assert states[("report.submit_report", branch[REFUSED])] == "failed"
    refused_posts = [r for r in sb.intake_requests() if r["client_id"] == sb.intake_client_for(REFUSED)[0]]
    assert refused_posts and {r["status"] for r in refused_posts} == {403}  # refused before the body is read
    for agency in HEALTHY:  # the quarter's run ends at acceptance (receipt_follow_up follows it afterwards)
        assert states[("report.submit_report", branch[agency])] == "success", (agency, states)
    reports = store_rows(run[4], "select agency, version, status from reports where year=:y and quarter=:q",
                         y=YEAR, q=QUARTER)
    assert sorted(r for r in reports if r[2] == "ACCEPTED") == sorted((a, 1, "ACCEPTED") for a in HEALTHY)
    assert not [r for r in reports if r[0] == FAILING]

