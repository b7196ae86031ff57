"""The production deployment (docker-compose.yaml) proven without Docker.

PostgreSQL (metadata database ``airflow`` and the pipeline's store ``parreport``), Redis, an
S3-compatible object store (moto's server), and Airflow's API server, scheduler, DAG processor,
triggerer and TWO Celery workers (concurrency 1 each) run as local processes with the compose
file's configuration (tests/support/stack.py): the FAB auth manager (its login rate limiter
counting in Redis), and the compose file's init script (``scripts/airflow_init.sh``), which
migrates both databases, checks the storage and creates the admin and operator users from
password files. Each component has its own local ``PARREPORT_DATA_DIR``, as on separate hosts:
the artefacts one task leaves for another (raw pages, Data Docs, reports) go through the bucket
(``PARREPORT_STORAGE_URL=s3://…``, an ``aws`` connection), and the test checks that the tasks ran
on both workers, that loading read pages the other worker wrote, and that no artefact landed on
any local disk. Every service passes the compose file's health check. The operator (role Op) logs
in through the login form — a wrong password does not get in — and through ``POST /auth/token``
for the REST API; a quarter is triggered with the official client (``apache-airflow-client``);
the run must succeed, the sandbox must have accepted exactly one report and the store must hold
its receipt. The operator's view is then checked through the same API server (which reads the
bucket: its own folder is empty) — the task links resolve, the pages answer — and
headless Chromium, with the login form's cookie, takes screenshots of the login page, the "Báo cáo
CCHC" menu page, the run summary, the run's grid, its tab and the task links, kept in
``test-artifacts/production-stack/`` with every component's log.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from parreport.files import run_slug
from parreport.periods import window_for
from parreport.report.signing import generate_keypair
from parreport.sandbox.runner import run_sandbox
from tests.support import browser, polling
from tests.support.airflow_home import http_conn
from tests.support.objstore import s3_server
from tests.support.stack import production_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "production-stack"
DAG_ID = "quarterly_par_report"
AGENCY = "000.00.20.H57"
YEAR, QUARTER = 2025, 1
RUN_TIMEOUT = 8 * 60
BUCKET, PREFIX = "parreport-artefacts", "prod"


def wait_for(what: str, timeout: float, probe, stack, interval: float = 2.0):
    return polling.wait_for(what, probe, timeout=timeout, alive=stack.check_alive, diagnostics=stack.diagnostics,
                            interval=interval)


def test_a_quarter_runs_on_the_production_stack(tmp_path):
    import airflow_client.client as af
    from airflow_client.client.api.dag_api import DAGApi
    from airflow_client.client.api.dag_run_api import DagRunApi
    from airflow_client.client.api.task_instance_api import TaskInstanceApi
    from airflow_client.client.models.dag_patch_body import DAGPatchBody
    from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody

    import shutil

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    started = time.monotonic()
    timings: dict[str, float] = {}
    private_pem, public_pem = generate_keypair()
    with run_sandbox(seed=11, dossiers_per_quarter=800, agency=AGENCY, public_keys={"huế-2025": public_pem},
                     review_delay=2.0, state_file=tmp_path / "intake-state.json") as sb, \
            s3_server(ARTIFACTS / "logs") as s3:
        extra = {
            "AIRFLOW_CONN_DVC_PORTAL": http_conn(sb.portal_url, *sb.portal_client),
            "AIRFLOW_CONN_SNV_REPORT_API": http_conn(sb.intake_url, *sb.intake_client[:2]),
            # the artefacts' storage, shared by every host; the bucket is created by the init script
            "PARREPORT_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}", "PARREPORT_STORAGE_CONN_ID": "parreport_storage",
            "AIRFLOW_CONN_PARREPORT_STORAGE": s3.connection(),
            # task logs in the same bucket, as in docker-compose.yaml: the API server reads them from there
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{BUCKET}/logs",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "parreport_storage",
            "AIRFLOW_CONN_REPORT_SIGNING_KEY": json.dumps(
                {"conn_type": "generic", "password": private_pem, "extra": {"kid": "huế-2025"}}),
            "PARREPORT_AGENCY": AGENCY, "PARREPORT_PAGE_SIZE": "200",
            # the sandbox plants ~1 % invalid dossiers; the default 1 % threshold would stop the run
            "PARREPORT_BLOCKING_THRESHOLD": "0.05",
            # only the run this test triggers: unpausing must not start the timetable's own runs
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        }
        with production_stack(ARTIFACTS / "logs", extra_env=extra, workers=2, worker_concurrency=1) as stack:
            timings["stack up"] = time.monotonic() - started
            # what docker compose would call healthy (the DAG processor and triggerer heartbeat first)
            health = wait_for("every service healthy", 120,
                              lambda: (lambda h: h if all(ok for ok, _ in h.values()) else None)(stack.health()),
                              stack, interval=5)
            timings["healthy"] = time.monotonic() - started
            assert set(health) == {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                                   "airflow-triggerer", "airflow-worker-1", "airflow-worker-2"}

            # the operator logs in as a person does (FAB login form), and the API takes a token
            refused = stack.login(password="not-the-password")
            assert "_token" not in refused.cookies
            logged_in = stack.login()
            assert logged_in.status_code in (302, 303), logged_in.text[:500]
            # the login's rate limiter counts in Redis (shared by every API server), not in memory
            import redis

            limits = redis.Redis.from_url(stack.ratelimit_url).keys("LIMITS*")
            assert limits, "FAB's rate limiter left no counter in Redis"
            ui_token = logged_in.cookies["_token"]
            token = stack.token()
            api = af.ApiClient(af.Configuration(host=stack.api_url, access_token=token))
            dags, runs, tis = DAGApi(api), DagRunApi(api), TaskInstanceApi(api)

            wait_for("the DAG parsed by the dag-processor", 180, lambda: dags.get_dag(DAG_ID), stack)
            assert dags.patch_dag(DAG_ID, DAGPatchBody(is_paused=False)).is_paused is False
            run = runs.trigger_dag_run(DAG_ID, TriggerDAGRunPostBody(conf={"year": YEAR, "quarter": QUARTER},
                                                                     logical_date=None))
            run_id = run.dag_run_id
            t0 = time.monotonic()

            def finished():
                state = str(runs.get_dag_run(DAG_ID, run_id).state.value)
                return state if state in ("success", "failed") else None

            try:
                state = wait_for("the triggered run to finish", RUN_TIMEOUT, finished, stack, interval=3)
            finally:
                timings["run"] = time.monotonic() - t0
                instances = tis.get_task_instances(DAG_ID, run_id).task_instances
                states = {ti.task_id: str(ti.state.value if ti.state else None) for ti in instances}
                hosts = {ti.task_id: ti.hostname for ti in instances}
                (ARTIFACTS / "task-states.json").write_text(json.dumps({"states": states, "hosts": hosts}, indent=2))
            assert state == "success", f"{states}\n{stack.diagnostics()}"

            # the tasks ran on both workers, and loading read pages written on the other one
            assert set(hosts.values()) == set(stack.worker_hosts.values()), hosts
            extracted_on = {hosts[t] for t in hosts if t.startswith("report.extract.")}
            assert extracted_on - {hosts["report.load_staging"]}, hosts
            assert [r.dag_run_id for r in runs.get_dag_runs(DAG_ID).dag_runs] == [run_id]

            # exactly one report accepted, and its receipt in the store (PostgreSQL)
            accepted = sb.accepted()
            assert len(accepted) == 1
            receipt_no = accepted[0]["receipt"]["MaTiepNhan"]
            from sqlalchemy import create_engine, text

            engine = create_engine(stack.store_url)
            with engine.connect() as c:
                rows = c.execute(text("select version, status, receipt from reports where agency=:a and year=:y "
                                      "and quarter=:q"), {"a": AGENCY, "y": YEAR, "q": QUARTER}).all()
            engine.dispose()
            assert [(r[0], r[1]) for r in rows] == [(1, "ACCEPTED")]
            receipt = rows[0][2] if isinstance(rows[0][2], dict) else json.loads(rows[0][2])
            assert receipt["MaTiepNhan"] == receipt_no

            # the operator's view through the same API server: links from a task, the pages
            # one mapped branch per agency: the run reports one agency, map index 0
            links = tis.get_extra_links(DAG_ID, run_id, "report.submit_report", map_index=0).extra_links
            key = window_for(YEAR, QUARTER).key
            assert links["Tóm tắt lần chạy"] == f"/parreport/tom-tat/{AGENCY}/{key}?run_id={_q(run_id)}"
            assert links["Biên nhận"] == f"/parreport/bien-nhan/{AGENCY}/{key}"
            assert set(links) >= {"Data Docs", "Báo cáo & tệp đính kèm", "Biên nhận", "Tóm tắt lần chạy"}
            auth = {"Authorization": f"Bearer {token}"}
            assert httpx.get(stack.api_url + links["Tóm tắt lần chạy"], timeout=30).status_code == 401
            for name, href in links.items():
                r = httpx.get(stack.api_url + href, headers=auth, timeout=30, follow_redirects=True)
                assert r.status_code == 200, (name, href, r.status_code, r.text[:300])
            got = httpx.get(stack.api_url + links["Biên nhận"], headers=auth, timeout=30, follow_redirects=True)
            assert receipt_no in got.text and "Biên nhận của Sở Nội vụ" in got.text  # a page, not raw JSON
            raw = httpx.get(f"{stack.api_url}/parreport/bao-cao/{AGENCY}/{key}/v1/bien-nhan.json", headers=auth,
                            timeout=30)
            assert raw.json()["MaTiepNhan"] == receipt_no
            summary = httpx.get(f"{stack.api_url}/parreport/api/tom-tat/{AGENCY}/{key}?run_id={_q(run_id)}",
                                headers=auth, timeout=30).json()
            assert summary["outcome"] == "sent" and summary["versions"][0]["receipt_no"] == receipt_no
            assert summary["airflow_state"] == "Thành công"  # read from the metadata database
            steps = {e["step"]: e for e in summary["events"]}
            assert steps["compute"]["detail"]["TONG"] == accepted[0]["body"]["Bieu06"][-1]
            assert steps["validate"]["detail"]["quarantined"] == accepted[0]["body"]["ChatLuongDuLieu"]["SoBanGhiLoai"]
            assert steps["submit"]["outcome"] == "sent" and steps["submit"]["detail"]["version"] == 1
            tab = httpx.get(f"{stack.api_url}/parreport/lan-chay/tom-tat/{DAG_ID}/{_q(run_id)}", headers=auth,
                            timeout=30, follow_redirects=True)
            assert tab.status_code == 200 and receipt_no in tab.text

            # every artefact is in the bucket, none on any host's own disk: the pages above read the bucket
            slug = run_slug(run_id)
            keys = s3.keys(BUCKET, f"{PREFIX}/")
            raw = [k for k in keys if k.startswith(f"{PREFIX}/raw/{AGENCY}/{key}/")]
            assert len([k for k in raw if "/dossiers/page-" in k]) >= 4  # 800+ dossiers in pages of 200
            evidence = f"{PREFIX}/data_docs/{AGENCY}/{key}/{slug}/"
            assert {evidence + "index.html", evidence + "tom-tat.html", evidence + "cach-ly.json"} <= set(keys)
            assert {f"{PREFIX}/reports/{AGENCY}/{key}/v1/bao-cao.json",
                    f"{PREFIX}/reports/{AGENCY}/{key}/v1/bien-nhan.json"} <= set(keys)
            local = {n: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())
                     for n, d in stack.data_dirs.items() if d.exists()}
            assert not [f for files in local.values() for f in files
                        if f.split("/")[0] in ("raw", "data_docs", "reports")], local
            pages = {
                "Data Docs (GX)": (f"/parreport/data-docs/{AGENCY}/{key}/{slug}/index.html", "Great Expectations"),
                "tóm tắt kiểm tra": (f"/parreport/data-docs/{AGENCY}/{key}/{slug}/tom-tat.html",
                                     "Kết quả kiểm tra dữ liệu"),
                # the run's own quarantine file (cach-ly.json), not the store's latest list
                "cách ly": (f"/parreport/cach-ly/{AGENCY}/{key}?run_id={_q(run_id)}", "Hồ sơ bị cách ly"),
                "báo cáo": (f"/parreport/bao-cao/{AGENCY}/{key}/v1/bao-cao.json", "PhienBan"),
                "bằng chứng": (f"/parreport/data-docs/{AGENCY}/{key}/", f"{slug}/tom-tat.html"),
            }
            for name, (href, needle) in pages.items():
                r = httpx.get(stack.api_url + href, headers=auth, timeout=30)
                assert r.status_code == 200 and needle in r.text, (name, r.status_code, r.text[:300])
                assert "lần chạy này không lưu danh sách riêng" not in r.text, name
                assert "1970" not in r.text, name  # a folder's time in the bucket is its newest object's
            # each task's log was uploaded to the bucket by the worker that ran it
            logs = {k.split("/task_id=")[1].split("/")[0] for k in s3.keys(BUCKET, "logs/") if "/task_id=" in k}
            assert set(states) <= logs, sorted(set(states) - logs)
            plugins = httpx.get(f"{stack.api_url}/api/v2/plugins", headers=auth, timeout=30).json()
            assert "parreport_views" in {p["name"] for p in plugins["plugins"]}

            # what an operator sees, in headless Chromium (logged in with the same JWT cookie)
            t1 = time.monotonic()
            seen = {}
            with browser.headless_chromium() as chrome:
                seen["login"] = chrome.screenshot(f"{stack.api_url}/auth/login/", ARTIFACTS / "login.png",
                                                  wait_for=("Sign In",), settle=1)
                cookie = {"_token": ui_token}  # the login form's cookie, as the operator's browser holds it
                seen["menu"] = chrome.screenshot(f"{stack.api_url}/parreport/", ARTIFACTS / "menu.png",
                                                 cookies=cookie, wait_for=(AGENCY,), full_page=True)
                seen["summary"] = chrome.screenshot(f"{stack.api_url}/parreport/tom-tat/{AGENCY}/{key}?run_id={_q(run_id)}",
                                                    ARTIFACTS / "run-summary.png", cookies=cookie,
                                                    wait_for=("Tóm tắt báo cáo CCHC", receipt_no), full_page=True)
                seen["grid"] = chrome.screenshot(f"{stack.api_url}/dags/{DAG_ID}/runs/{_q(run_id)}",
                                                 ARTIFACTS / "grid.png", cookies=cookie,
                                                 wait_for=("list_agencies", "report"), settle=3)
                seen["tab"] = chrome.screenshot(f"{stack.api_url}/dags/{DAG_ID}/runs/{_q(run_id)}/plugin/parreport-run",
                                                ARTIFACTS / "run-tab.png", cookies=cookie, wait_for=("Tóm tắt báo cáo",),
                                                settle=4)
                seen["task"] = chrome.screenshot(f"{stack.api_url}/dags/{DAG_ID}/runs/{_q(run_id)}/tasks/"
                                                 "report.submit_report/mapped/0/details",
                                                 ARTIFACTS / "task-links.png", cookies=cookie,
                                                 wait_for=("Data Docs", "Biên nhận"), settle=3)
            timings["screenshots"] = time.monotonic() - t1
            (ARTIFACTS / "page-texts.json").write_text(json.dumps(seen, ensure_ascii=False, indent=2))
            assert receipt_no in seen["summary"] and AGENCY in seen["menu"]
            assert "list_agencies" in seen["grid"] and "report" in seen["grid"]
            assert "Tóm tắt báo cáo" in seen["tab"]  # the run page's tab (the iframe's text is its own)
            for name in ("Data Docs", "Báo cáo & tệp đính kèm", "Biên nhận", "Tóm tắt lần chạy"):
                assert name in seen["task"], name
            for png in ("login.png", "menu.png", "run-summary.png", "grid.png", "run-tab.png", "task-links.png"):
                assert (ARTIFACTS / png).stat().st_size > 10_000, png
    timings["total"] = time.monotonic() - started
    (ARTIFACTS / "timings.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=2))


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
