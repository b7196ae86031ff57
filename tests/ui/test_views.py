"""The operator's and the steward's pages (include/parreport/ui/, airflow_plugins/parreport_views.py).

Two installations:

- ``world``: a real quarter run step by step against the sandbox, four runs — stopped on
  validation, sent version 1, a steward's correction sent as version 2, then nothing new —
  so the pages read what the pipeline itself recorded (store.run_events, real GX Data Docs);
- ``installation``: a hand-made store and data tree, for the file serving rules (no path leads
  out of the served trees).

Content is checked with the FastAPI TestClient; every page is also loaded in headless Chromium
(tests/support/browser.py), without network, with a screenshot in test-artifacts/.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from parreport import db, pipeline
from parreport import store as st
from parreport import ui as views
from parreport.config import load_settings
from parreport.http import Endpoint
from parreport.kinds import DATASETS
from parreport.periods import window_for
from parreport.quality.validation import BlockingFailuresExceeded
from parreport.report.signing import generate_keypair
from parreport.sandbox.runner import run_sandbox

from tests.support.browser import chromium, headless_chromium
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AGENCY = "000.00.20.H57"
W = window_for(2025, 2)
KEY = W.key
RUN_STOPPED = "manual__2025-06-16T01:00:00+00:00"
RUN_V1 = "manual__2025-06-16T02:00:00+00:00"
RUN_V2 = "manual__2025-06-17T03:00:00+00:00"
RUN_SAME = "scheduled__2025-06-18T04:00:00+00:00"
RAW_KEY = re.compile(r"\d{4}Q\d_\d{8}_\d{8}")
ENGLISH = ("Not Found", "Internal Server Error", "null", "None", "True", "False", "Traceback", "KHONG_DAT", "CHAN",
           "DA_DUYET", "ACCEPTED", "SUBMITTED")


# ------------------------------------------------------------------------------------------------
# a real quarter, four runs
# ------------------------------------------------------------------------------------------------
def _airflow_like_run(settings, portal, period, run_id):
    extracts = {ds: pipeline.extract(settings, portal, period, run_id, ds) for ds in DATASETS}
    pipeline.load(settings, period, extracts, run_id)


def _rest_of_run(settings, intake, priv, period, run_id):
    from parreport.receipts import poll_receipt_once

    pipeline.validate(settings, period, run_id)
    pipeline.compute(settings, period, run_id)
    pipeline.build_report(settings, period, run_id)
    result = pipeline.submit(settings, intake, priv, "k1", period, run_id)
    if result["sent"]:  # what receipt_follow_up does once the intake has reviewed it
        from parreport import follow_up

        follow_up.settle(settings, poll_receipt_once(intake, result["MaTiepNhan"]), dag_id="receipt_follow_up",
                         run_id=f"follow_up__{run_id}")
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui-world")
    saved = {k: os.environ.get(k) for k in ("AIRFLOW_HOME", "PARREPORT_STORE_URL", "PARREPORT_DATA_DIR",
                                            "PARREPORT_CONFIG", "PARREPORT_BLOCKING_THRESHOLD")}
    os.environ["AIRFLOW_HOME"] = str(home)
    for k in saved:
        if k != "AIRFLOW_HOME":
            os.environ.pop(k, None)
    settings = load_settings()
    db.upgrade(settings.store_url)
    period = pipeline.Period(AGENCY, W)
    priv, pub = generate_keypair()
    try:
        with run_sandbox(seed=7, dossiers_per_quarter=150, agency=AGENCY, public_keys={"k1": pub}, review_delay=0,
                         extra_args=("--invalid-rate", "0.05")) as sb:
            portal = Endpoint(sb.portal_url, *sb.portal_client)
            intake = Endpoint(sb.intake_url, *sb.intake_client[:2])
            # run 1: more than 1 % quarantined → stops before anything is sent
            _airflow_like_run(settings, portal, period, RUN_STOPPED)
            with pytest.raises(BlockingFailuresExceeded):
                pipeline.validate(settings, period, RUN_STOPPED)
            # run 2: the operator raised the threshold to 20 % → version 1
            relaxed = dataclasses.replace(settings, blocking_threshold=0.20)
            _airflow_like_run(relaxed, portal, period, RUN_V1)
            v1 = _rest_of_run(relaxed, intake, priv, period, RUN_V1)
            # a steward corrects one dossier; run 3 sends version 2, run 4 nothing new
            with st.Store(settings.store_url) as store:
                target = _correctable(store)
                from parreport.quality.corrections import add_correction

                add_correction(store, AGENCY, KEY, ma_ho_so=target["MaHoSo"], field="NgayTiepNhan",
                               value=json.dumps(target["NgayNopHoSo"]), reason="Cổng thiếu ngày tiếp nhận",
                               by="Cán bộ A")
            _airflow_like_run(relaxed, portal, period, RUN_V2)
            v2 = _rest_of_run(relaxed, intake, priv, period, RUN_V2)
            _airflow_like_run(relaxed, portal, period, RUN_SAME)
            same = _rest_of_run(relaxed, intake, priv, period, RUN_SAME)
            yield {"settings": settings, "v1": v1, "v2": v2, "same": same, "target": target}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _correctable(store) -> dict:
    """A quarantined dossier whose only fault is a missing NgayTiepNhan (it was submitted by the window's end)."""
    for q in store.rows(st.quarantine, AGENCY, KEY):
        rules = {v["rule"] for v in q["violations"]}
        if q["kind"] == "dossier" and rules == {"received_without_T"}:
            rec = next(r["record"] for r in store.rows(st.dossiers, AGENCY, KEY) if r["seq"] == q["seq"])
            if rec.get("NgayNopHoSo") and rec["NgayNopHoSo"] <= W.end_ts:
                return rec
    pytest.skip("the sandbox planted no dossier the steward can mend with NgayTiepNhan")


def _fake_run_info(run_ids):
    states = {RUN_STOPPED: "failed", RUN_V1: "success", RUN_V2: "success", RUN_SAME: "success"}
    return {r: {"state": states[r], "run_type": r.split("__")[0], "start_date": None, "end_date": None,
                "failed_tasks": ["report.validate_records"] if r == RUN_STOPPED else []}
            for r in run_ids if r in states}


def _periods(dag_id, run_id, map_index=None):
    if run_id in (RUN_STOPPED, RUN_V1, RUN_V2, RUN_SAME):
        return [pipeline.Period(AGENCY, W).as_dict()]
    return []


@pytest.fixture(scope="module")
def world_app(world):
    from fastapi import FastAPI

    outer = FastAPI()
    settings = world["settings"]
    outer.mount("/parreport", views.create_app(settings_loader=lambda: settings, period_lookup=_periods,
                                               run_info=_fake_run_info))
    return outer


@pytest.fixture(scope="module")
def wc(world_app):
    from fastapi.testclient import TestClient

    with TestClient(world_app) as c:
        yield c


def _url(page, run_id=None, **params):
    from urllib.parse import urlencode

    q = {k: v for k, v in {"run_id": run_id, **params}.items() if v}
    return f"/parreport/{page}/{AGENCY}/{KEY}" + (f"?{urlencode(q)}" if q else "")


def _visible(html: str) -> str:
    """The text a person reads (tags, attribute values and scripts left out)."""
    import html as html_lib

    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _no_codes(text: str) -> None:
    for word in ENGLISH:
        assert not re.search(rf"\b{re.escape(word)}\b", text), word
    assert not RAW_KEY.search(text), RAW_KEY.search(text).group(0)
    assert f"{AGENCY} ({AGENCY})" not in text


# -- the pipeline tells each run's story ---------------------------------------------------------
def test_each_step_of_each_run_is_recorded(world):
    with st.Store(world["settings"].store_url) as store:
        by_run = {}
        for e in store.run_events(AGENCY, KEY):
            by_run.setdefault(e["run_id"], []).append((e["step"], e["outcome"]))
    assert by_run[RUN_STOPPED] == [("extract", "ok")] * 5 + [("load", "ok"), ("validate", "stopped")]
    # the receipt's later state is written, by receipt_follow_up, into the story of the run that sent it
    assert by_run[RUN_V1][-5:] == [("validate", "ok"), ("compute", "ok"), ("build", "ok"), ("submit", "sent"),
                                   ("receipt", "approved")]
    assert by_run[RUN_V2][-2:] == [("submit", "sent"), ("receipt", "approved")]
    assert by_run[RUN_SAME][-1] == ("submit", "unchanged")
    with st.Store(world["settings"].store_url) as store:
        stop = next(e for e in store.run_events(AGENCY, KEY, RUN_STOPPED) if e["step"] == "validate")["detail"]
        sent2 = next(e for e in store.run_events(AGENCY, KEY, RUN_V2) if e["step"] == "submit")["detail"]
        same = next(e for e in store.run_events(AGENCY, KEY, RUN_SAME) if e["step"] == "submit")["detail"]
    assert stop["quarantined"] > 0.01 * stop["dossiers"] and stop["threshold"] == 0.01
    assert stop["evidence"] == "manual__2025-06-16T01_00_00_00_00" and sum(stop["by_rule"].values()) >= stop["quarantined"]
    assert sent2["version"] == 2 and same["version"] == 2 and world["same"]["sent"] is False


def test_evidence_is_per_run(world):
    root = world["settings"].data_path / "data_docs" / AGENCY / KEY
    folders = {p.name for p in root.iterdir()}
    for run in (RUN_STOPPED, RUN_V1, RUN_V2, RUN_SAME):
        assert st_slug(run) in folders
        assert (root / st_slug(run) / "index.html").is_file() and (root / st_slug(run) / "cach-ly.json").is_file()
    stopped = json.loads((root / st_slug(RUN_STOPPED) / "cach-ly.json").read_text())["items"]
    later = json.loads((root / st_slug(RUN_V2) / "cach-ly.json").read_text())["items"]
    assert len(stopped) == len(later) + 1  # the corrected dossier left the quarantine; run 1's list kept it
    assert world["target"]["MaHoSo"] in {i["ref"] for i in stopped} - {i["ref"] for i in later}


def st_slug(run_id):
    from parreport.files import run_slug

    return run_slug(run_id)


def test_cli_validate_writes_its_own_folder(world, wc, monkeypatch, capsys):
    from parreport import cli

    monkeypatch.setenv("PARREPORT_BLOCKING_THRESHOLD", "0.20")
    root = world["settings"].data_path / "data_docs" / AGENCY / KEY
    before = {p.name: p.stat().st_mtime_ns for p in root.iterdir()}
    index_before = (root / st_slug(RUN_SAME) / "index.html").read_bytes()
    assert cli.main(["validate", "--year", "2025", "--quarter", "2", "--agency", AGENCY]) == 0
    out = capsys.readouterr().out
    new = {p.name for p in root.iterdir()} - set(before)
    assert len(new) == 1 and next(iter(new)).startswith("kiem-tra-tay__") and next(iter(new)) in out
    assert (root / st_slug(RUN_SAME) / "index.html").read_bytes() == index_before
    assert {p.name: p.stat().st_mtime_ns for p in root.iterdir() if p.name in before} == before
    with st.Store(world["settings"].store_url) as store:
        adhoc = [e for e in store.run_events(AGENCY, KEY) if e["run_id"].startswith("kiem-tra-tay__")]
    assert [(e["step"], e["outcome"]) for e in adhoc] == [("validate", "ok")]
    listing = _visible(wc.get(f"/parreport/data-docs/{AGENCY}/{KEY}/").text)
    assert "Cán bộ dữ liệu kiểm tra lại" in listing
    runs = _visible(wc.get(_url("tom-tat")).text)
    assert "chỉ kiểm tra lại dữ liệu, không gửi gì" in runs and "không có gì mới để gửi" in runs


# -- the run tab -------------------------------------------------------------------------------
def test_a_stopped_run_says_why_the_threshold_and_what_to_do(wc, world):
    page = wc.get(_url("tom-tat", RUN_STOPPED))
    assert page.status_code == 200
    text = _visible(page.text)
    with st.Store(world["settings"].store_url) as store:
        stop = next(e for e in store.run_events(AGENCY, KEY, RUN_STOPPED) if e["step"] == "validate")["detail"]
    n, total = stop["quarantined"], stop["dossiers"]
    assert "Tóm tắt báo cáo CCHC — Quý 2/2025" in text
    assert (f"Lần chạy dừng ở bước kiểm tra dữ liệu, trước khi gửi báo cáo: {n} trong {total} hồ sơ" in text)
    assert "vượt ngưỡng 1 %" in text
    assert f"parreport corrections add --agency {AGENCY} --year 2025 --quarter 2 --ma-ho-so" in text
    assert f"parreport quarantine list --agency {AGENCY} --year 2025 --quarter 2" in text
    assert "validate_records" in text and "Clear" in text
    assert _url("cach-ly", RUN_STOPPED).replace("+", "%2B").split("?")[0] in page.text
    assert f"/data-docs/{AGENCY}/{KEY}/{st_slug(RUN_STOPPED)}/tom-tat.html" in page.text  # this run's evidence
    # nothing of a later run: no version, no receipt state, no figures reported
    assert "Đã duyệt" not in text and "Số liệu đã báo cáo" not in text and "SNV-" not in text
    assert "Lần chạy này không gửi phiên bản nào" in text
    _no_codes(text)


def test_each_run_shows_its_own_outcome_not_the_quarters_latest(wc, world):
    v1 = _visible(wc.get(_url("tom-tat", RUN_V1)).text)
    assert "Lần chạy này đã gửi phiên bản 1 của báo cáo Quý 2/2025" in v1
    assert world["v1"]["MaTiepNhan"] in v1 and world["v2"]["MaTiepNhan"] not in v1  # not the later version
    v2 = _visible(wc.get(_url("tom-tat", RUN_V2)).text)
    assert "Lần chạy này đã gửi phiên bản 2" in v2 and "Lý do điều chỉnh" in v2
    same = _visible(wc.get(_url("tom-tat", RUN_SAME)).text)
    assert "không có gì mới để gửi: số liệu giống phiên bản 2" in same
    # run 1's figures are its own: its quarantine count, not the later one
    with st.Store(world["settings"].store_url) as store:
        q1 = next(e for e in store.run_events(AGENCY, KEY, RUN_V1) if e["step"] == "validate")["detail"]
        q2 = next(e for e in store.run_events(AGENCY, KEY, RUN_V2) if e["step"] == "validate")["detail"]
    assert q1["quarantined"] == q2["quarantined"] + 1
    assert f"Hồ sơ bị cách ly {q1['quarantined']}" in v1 and f"Hồ sơ bị cách ly {q2['quarantined']}" in v2
    for text in (v1, v2, same):
        _no_codes(text)
        assert re.search(r"\d+,\d\d %", text)  # percentages with a decimal comma and a space
        assert "Sở Lao động" in text  # the agency by name


def test_the_quarter_page_without_a_run_is_its_latest_run(wc):
    text = _visible(wc.get(_url("tom-tat")).text)
    assert "không có gì mới để gửi" in text


def test_run_tab_link_from_airflow_redirects_to_the_runs_own_page(wc):
    r = wc.get(f"/parreport/lan-chay/tom-tat/quarterly_par_report/{RUN_V1}", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"].startswith(f"/parreport/tom-tat/{AGENCY}/{KEY}?run_id=")
    missing = wc.get("/parreport/lan-chay/tom-tat/quarterly_par_report/manual__none")
    assert missing.status_code == 404 and "resolve_period" in missing.text


# -- the quarters at a glance -------------------------------------------------------------------
def test_overview_is_a_table_of_agency_by_quarter(wc):
    page = wc.get("/parreport/")
    text = _visible(page.text)
    assert "Quý 2/2025" in text and "Đã duyệt" in text and "Phiên bản 2" in text
    assert "Hạn nộp" in text and "23:59:59 ngày 20/06/2025" in text
    assert "/dags/quarterly_par_report/runs/" in page.text  # each run links to Airflow's grid
    assert "dừng ở bước kiểm tra dữ liệu" in text and "không có gì mới (giống phiên bản 2)" in text
    assert "Chưa chạy" in text  # the configured agency's recent quarters never run
    _no_codes(text)


# -- the steward's page -------------------------------------------------------------------------
def test_quarantine_page_lists_every_rule_and_filters(wc, world):
    page = wc.get(_url("cach-ly", RUN_STOPPED))
    text = _visible(page.text)
    items = json.loads((world["settings"].data_path / "data_docs" / AGENCY / KEY / st_slug(RUN_STOPPED)
                        / "cach-ly.json").read_text())["items"]
    dossiers = [i for i in items if i["kind"] == "dossier"]
    assert f"{len(dossiers)} hồ sơ bị cách ly" in text
    assert world["target"]["MaHoSo"] in text  # run 1's list keeps the dossier corrected later
    assert "Hồ sơ đã tiếp nhận nhưng thiếu ngày tiếp nhận" in text
    assert f"parreport corrections add --agency {AGENCY} --year 2025 --quarter 2" in text
    multi = next((i for i in items if len({v['rule'] for v in i['violations']}) > 1), None)
    if multi:  # a dossier with several rules shows them all
        for v in multi["violations"]:
            assert v["message"] in text
    filtered = _visible(wc.get(_url("cach-ly", RUN_STOPPED, quy_tac="received_without_T")).text)
    expected = sum(1 for i in items if "received_without_T" in {v["rule"] for v in i["violations"]})
    assert f"Danh sách ({expected} bản ghi)" in filtered
    unit = next(i["direct_unit"] for i in dossiers if i["direct_unit"])
    by_unit = _visible(wc.get(_url("cach-ly", RUN_STOPPED, don_vi=unit)).text)
    assert f"Danh sách ({sum(1 for i in items if i['direct_unit'] == unit)} bản ghi)" in by_unit
    _no_codes(text)


def test_quarantine_downloads_match_the_page(wc, world):
    from openpyxl import load_workbook

    from parreport import quarantine

    csv_r = wc.get(_url("cach-ly", RUN_STOPPED).replace("?", "/tai-ve.csv?"))
    assert csv_r.status_code == 200 and csv_r.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_r.headers["content-disposition"]
    lines = csv_r.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(quarantine.HEADERS)
    x = wc.get(_url("cach-ly", RUN_STOPPED, quy_tac="received_without_T").replace("?", "/tai-ve.xlsx?"))
    cells = [[c.value for c in row] for row in load_workbook(io.BytesIO(x.content)).active.iter_rows()]
    assert cells[0] == list(quarantine.HEADERS)
    assert len(cells) > 1 and {r[4] for r in cells[1:]} == {"received_without_T"}
    assert world["target"]["MaHoSo"] in {r[2] for r in cells[1:]}
    assert wc.get(_url("cach-ly").replace(KEY, KEY + "/tai-ve.pdf")).status_code == 404


def test_cli_and_page_export_the_same_rows(world, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from parreport import cli, quarantine

    out = tmp_path / "q.xlsx"
    assert cli.main(["quarantine", "list", "--year", "2025", "--quarter", "2", "--agency", AGENCY,
                     "--format", "xlsx", "--output", str(out)]) == 0
    cells = [[c.value for c in row] for row in load_workbook(out).active.iter_rows()]
    with st.Store(world["settings"].store_url) as store:
        rows = cli.quarantine_rows(store, AGENCY, KEY)
    assert cells[0] == list(quarantine.HEADERS) and len(cells) == len(rows) + 1
    assert cells[1] == [rows[0][c] for c in quarantine.COLUMNS]


# -- receipt, documents, Data Docs --------------------------------------------------------------
def test_receipt_is_a_vietnamese_page_with_the_json_to_download(wc, world):
    page = wc.get(_url("bien-nhan") + "?phien_ban=2")
    text = _visible(page.text)
    assert page.status_code == 200 and "Biên nhận của Sở Nội vụ — Quý 2/2025, phiên bản 2" in text
    assert world["v2"]["MaTiepNhan"] in text and "Đã duyệt" in text and "Tải biên nhận gốc (JSON)" in text
    _no_codes(text)
    raw = wc.get(f"/parreport/bao-cao/{AGENCY}/{KEY}/v2/bien-nhan.json")
    assert raw.json()["MaTiepNhan"] == world["v2"]["MaTiepNhan"] and "attachment" in raw.headers["content-disposition"]
    assert "phiên bản 1" in _visible(page.text).lower()  # the other versions' receipts are one click away


def test_documents_page(wc):
    text = _visible(wc.get(f"/parreport/bao-cao/{AGENCY}/{KEY}/").text)
    assert "Phiên bản 2" in text and "Phiên bản 1" in text and "Báo cáo (PDF)" in text and "Biểu 06 (bảng tính)" in text
    _no_codes(text)


def test_data_docs_are_rewritten_to_local_assets(wc, world):
    page = wc.get(f"/parreport/data-docs/{AGENCY}/{KEY}/{st_slug(RUN_V1)}/index.html")
    assert page.status_code == 200 and "sandbox" in page.headers["content-security-policy"]
    assets = re.findall(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["']([^"']+)""", page.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    for asset in (a for a in assets if a.startswith("/parreport/static/")):
        assert wc.get(asset).status_code == 200, asset
    listing = _visible(wc.get(f"/parreport/data-docs/{AGENCY}/{KEY}/").text)
    assert listing.index("Tóm tắt kết quả kiểm tra") < listing.index("Great Expectations")
    first = wc.get(f"/parreport/data-docs/{AGENCY}/{KEY}/?run_id={RUN_V1}", follow_redirects=False)
    assert first.headers["location"].endswith(f"{st_slug(RUN_V1)}/tom-tat.html")  # the Vietnamese summary first


def test_static_assets_need_no_login_but_pages_do(world):
    from fastapi.testclient import TestClient
    from fastapi import Depends, HTTPException

    def deny():
        raise HTTPException(401)

    app = views.create_app(dependencies=[Depends(deny)])
    with TestClient(app) as c:
        assert c.get("/").status_code == 401
        assert c.get(f"/cach-ly/{AGENCY}/{KEY}/tai-ve.csv").status_code == 401
        js = c.get("/static/vendor/jquery/jquery.min.js")
        assert js.status_code == 200 and js.headers["access-control-allow-origin"] == "*"
        assert c.get("/static/../templates/base.html.j2").status_code == 404


# -- in a browser, without network --------------------------------------------------------------
@pytest.fixture(scope="module")
def served(world_app):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(world_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)


PAGES = [
    ("tong-quan", "/parreport/", ("Báo cáo CCHC quý", "Quý 2/2025")),
    ("lan-chay-dung", _url("tom-tat", RUN_STOPPED), ("dừng ở bước kiểm tra dữ liệu", "parreport corrections add")),
    ("lan-chay-phien-ban-2", _url("tom-tat", RUN_V2), ("đã gửi phiên bản 2", "Lý do điều chỉnh")),
    ("lan-chay-khong-gui", _url("tom-tat", RUN_SAME), ("không có gì mới để gửi",)),
    ("cach-ly", _url("cach-ly", RUN_STOPPED), ("Hồ sơ bị cách ly", "Sửa và chạy lại")),
    ("cach-ly-loc", _url("cach-ly", RUN_STOPPED, quy_tac="received_without_T"), ("thiếu ngày tiếp nhận",)),
    ("bien-nhan", _url("bien-nhan") + "?phien_ban=2", ("Biên nhận của Sở Nội vụ", "Đã duyệt")),
    ("bao-cao", f"/parreport/bao-cao/{AGENCY}/{KEY}/", ("Phiên bản 2",)),
    ("bang-chung", f"/parreport/data-docs/{AGENCY}/{KEY}/", ("Kết quả kiểm tra dữ liệu",)),
]


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (scripts/system_deps.sh)")
def test_every_page_in_chromium_without_network(served, world):
    ARTIFACTS.mkdir(exist_ok=True)
    with headless_chromium(width=1400, height=1000, extra_flags=("--host-resolver-rules=MAP * ~NOTFOUND, "
                                                                 "EXCLUDE 127.0.0.1",)) as browser:
        for name, path, wait in PAGES:
            text = browser.screenshot(served + path, ARTIFACTS / f"ui-{name}.png", wait_for=wait, full_page=True)
            for w in wait:
                assert w in text, (name, w)
            _no_codes(text)
        # Data Docs offline: GX's list of validation results is drawn by bootstrap-table (jQuery)
        docs = f"{served}/parreport/data-docs/{AGENCY}/{KEY}/{st_slug(RUN_V1)}/index.html"
        text = browser.screenshot(docs, ARTIFACTS / "ui-data-docs-offline.png", wait_for=("ho_so",), settle=2.0)
        assert "ho_so" in text and "Showing 1 to" in text, text[:500]
        summary = f"{served}/parreport/data-docs/{AGENCY}/{KEY}/{st_slug(RUN_V1)}/tom-tat.html"
        text = browser.screenshot(summary, ARTIFACTS / "ui-data-docs-tom-tat.png", wait_for=("Kết quả kiểm tra",))
        assert "Kết quả kiểm tra dữ liệu" in text


# ------------------------------------------------------------------------------------------------
# the file serving rules (a hand-made tree)
# ------------------------------------------------------------------------------------------------
RUN = "manual__2025-03-20T01:00:00+00:00"
SLUG = "manual__2025-03-20T01_00_00_00_00"
KEY1 = "2025Q1_20241215_20250314"
SECRET = "KHONG-DUOC-LO-RA"


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    from parreport.config import Settings

    tmp_path = tmp_path_factory.mktemp("ui-files")
    data = tmp_path / "data"
    settings = Settings(data_dir=str(data), store_url=f"sqlite:///{data}/store.db")
    db.upgrade(settings.store_url)
    with st.Store(settings.store_url) as store:
        store.record_load(AGENCY, KEY1, "dossiers", run_id=RUN, raw_dir="x", tong_so=6523, delivered=6523,
                          staged=6449, duplicates=74)
        body = {"MaDonViBaoCao": AGENCY, "TenDonViBaoCao": "Sở <Huế>", "PhienBan": 1, "LyDoDieuChinh": None}
        receipt = {"MaTiepNhan": "SNV-2025-000042", "TrangThai": "DA_DUYET", "PhienBan": 1, "Nam": 2025, "Quy": 1,
                   "MaDonViBaoCao": AGENCY, "ThoiDiemTiepNhan": "2025-03-20T08:01:00+07:00"}
        store.upsert_report(AGENCY, 2025, 1, 1, window_key=KEY1, figures_sha="f" * 64, body=body, content_sha="c" * 64,
                            idempotency_key="CCHC-k", status="ACCEPTED", receipt=receipt, run_id=RUN)
    docs = data / "data_docs" / AGENCY / KEY1 / SLUG
    (docs / "validations").mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>GX Data Docs</body></html>", encoding="utf-8")
    (docs / "validations" / "ho-so.html").write_text("<p>hồ sơ</p>", encoding="utf-8")
    folder = data / "reports" / AGENCY / KEY1 / "v1"
    folder.mkdir(parents=True)
    (folder / "bao-cao.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    (folder / "bien-nhan.json").write_text(json.dumps(receipt), encoding="utf-8")
    (folder / "bieu-06_2025Q1.xlsx").write_bytes(b"PK\x03\x04xlsx")
    (folder / ".hidden").write_text(SECRET)
    (data / "secret.txt").write_text(SECRET)
    (tmp_path / "outside.txt").write_text(SECRET)
    os.symlink(data / "secret.txt", folder / "lien-ket.json")
    os.symlink(tmp_path, docs / "thoat")
    return settings


@pytest.fixture(scope="module")
def client(installation):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    periods = {"manual__one": [{"agency": AGENCY, "window_key": KEY1, "year": 2025, "quarter": 1}],
               "manual__many": [{"agency": AGENCY, "window_key": KEY1}, {"agency": "000.00.21.H57", "window_key": KEY1}]}
    outer = FastAPI()
    outer.mount("/parreport", views.create_app(settings_loader=lambda: installation,
                                               period_lookup=lambda d, r, m=None: periods.get(r, [])))
    with TestClient(outer) as c:
        yield c


def test_files_are_served_read_only_with_their_type(client):
    r = client.get(f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/bien-nhan.json")
    assert r.status_code == 200 and r.json()["MaTiepNhan"] == "SNV-2025-000042"
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    r = client.get(f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/validations/ho-so.html")
    assert r.status_code == 200 and "hồ sơ" in r.text
    assert client.get(f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/").text.count("GX Data Docs") == 1
    assert client.post(f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/bien-nhan.json").status_code == 405
    assert client.delete(f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/bien-nhan.json").status_code == 405
    listing = client.get(f"/parreport/bao-cao/{AGENCY}/{KEY1}/")
    assert "v1/bao-cao.json" in listing.text and "bieu-06_2025Q1.xlsx" in listing.text and ".hidden" not in listing.text
    receipt = client.get(f"/parreport/bien-nhan/{AGENCY}/{KEY1}")
    assert receipt.status_code == 200 and "SNV-2025-000042" in receipt.text and "Sở &lt;Huế&gt;" not in receipt.text
    assert "<Huế>" not in receipt.text  # escaped wherever it appears


def test_unknown_partition_is_404_in_vietnamese(client):
    r = client.get(f"/parreport/tom-tat/{AGENCY}/2024Q4_x")
    assert r.status_code == 404 and "Không tìm thấy" in r.text
    bad = client.get(f"/parreport/bien-nhan/{AGENCY}/{KEY1}?phien_ban=hai")
    assert bad.status_code == 400 and "Địa chỉ không hợp lệ" in bad.text and "Input should" not in bad.text
    assert client.get("/parreport/tom-tat/..%2F..%2Fetc/x").status_code == 404


TRAVERSALS = [
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/..%2F..%2F..%2Fsecret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/..%5C..%5C..%5Csecret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/%2Fetc%2Fpasswd",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1//etc/passwd",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/.hidden",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/lien-ket.json",  # symlink out of the tree
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/v1/bao-cao.json%00.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY1}/..%2F..%2F/secret.txt",
    f"/parreport/bao-cao/{AGENCY}/..%2F..%2F/v1/secret.txt",
    f"/parreport/bao-cao/..%2F..%2F..%2F/{KEY1}/v1/secret.txt",
    "/parreport/bao-cao/%2e%2e/%2e%2e/v1/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY1}/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/thoat/outside.txt",  # symlinked directory
    f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/thoat/data/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY1}/.%2e/.%2e/.%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY1}/{SLUG}/validations",  # a directory is not a file
    f"/parreport/data-docs/{AGENCY}/{KEY1}/%2Ftmp/secret.txt",
    "/parreport/static/..%2F..%2Fui%2Fapp.py",
    "/parreport/static/%2e%2e/%2e%2e/config.py",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_leads_out_of_the_served_trees(client, url):
    r = client.get(url, follow_redirects=True)
    assert r.status_code == 404, (url, r.status_code)
    assert SECRET not in r.text and "def create_app" not in r.text


def test_safe_path_directly(installation):
    tmp_path = installation.data_path.parent
    root = installation.data_path / "reports" / AGENCY / KEY1
    assert views.safe_path(root, "v1", "bao-cao.json").name == "bao-cao.json"
    for parts in (("..", "..", "secret.txt"), ("v1/../../../secret.txt",), ("/etc/passwd",), ("v1", "lien-ket.json"),
                  ("v1", ".hidden"), ("v1\\..\\..",), ("v1", "nope.json"), (str(tmp_path / "outside.txt"),)):
        with pytest.raises(views.NotFound):
            views.safe_path(root, *parts)
    for bad in ("..", ".", "", "a/b", "../x", "x\x00"):
        with pytest.raises(views.NotFound):
            views.safe_name(bad)


def test_a_run_of_many_agencies_asks_which(client):
    many = client.get("/parreport/lan-chay/data-docs/quarterly_par_report/manual__many")
    assert many.status_code == 200 and "000.00.21.H57" in many.text and "Quý 1/2025" in many.text
    assert client.get("/parreport/lan-chay/xoa/quarterly_par_report/manual__one").status_code == 404


def test_xcom_values_decode_to_the_period():
    period = {"agency": AGENCY, "window_key": KEY1, "year": 2025, "quarter": 1}
    assert views.decode_xcom(period) == period
    assert views.decode_xcom(json.dumps(period)) == period
    assert views.decode_xcom(json.dumps(json.dumps(period))) == period
    assert views.as_period("not json") is None and views.as_period({"agency": 1}) is None


def test_offline_rewrite_drops_cdn_and_subresource_integrity():
    from parreport.ui.datadocs import CDN_ASSETS, offline_html

    html = ('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>\n'
            '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>\n'
            '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" '
            'integrity="sha384-x" crossorigin="anonymous"></script>\n'
            '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css">')
    out = offline_html(html, "/p/static/vendor")
    assert "https://" not in out and "integrity" not in out and "crossorigin" not in out
    assert '<script src="/p/static/vendor/jquery/jquery.min.js"></script>' in out
    assert out.count("<script") == 2 and out.count("</script>") == 2
    static = ROOT / "include" / "parreport" / "ui" / "static" / "vendor"
    assert all((static / local).is_file() for local in CDN_ASSETS.values())


# ------------------------------------------------------------------------------------------------
# the plugin
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    return importlib.import_module("parreport.airflow_plugins.parreport_views")


def test_plugin_declares_the_app_the_views_and_the_links(plugin):
    p = plugin.ParreportViewsPlugin
    assert p.fastapi_apps[0]["url_prefix"] == "/parreport"
    assert {v["destination"] for v in p.external_views} == {"nav", "dag_run"}
    run_view = next(v for v in p.external_views if v["destination"] == "dag_run")
    assert run_view["href"] == "/parreport/lan-chay/tom-tat/{DAG_ID}/{RUN_ID}"
    assert [link.name for link in p.global_operator_extra_links] == [
        "Data Docs", "Báo cáo & tệp đính kèm", "Biên nhận", "Tóm tắt lần chạy"]


def test_plugin_links_resolve_from_the_period_xcom(plugin, monkeypatch):
    from airflow.models.taskinstancekey import TaskInstanceKey

    period = {"agency": AGENCY, "window_key": KEY1, "year": 2025, "quarter": 1}
    monkeypatch.setattr(plugin.views, "airflow_period_lookup", lambda d, r, m=None: [period] if r == "r1" else [])
    links = {link.name: link.get_link(None, ti_key=TaskInstanceKey("quarterly_par_report", "submit_report", "r1"))
             for link in plugin.ParreportViewsPlugin.global_operator_extra_links}
    assert links == {"Data Docs": f"/parreport/data-docs/{AGENCY}/{KEY1}/?run_id=r1",
                     "Báo cáo & tệp đính kèm": f"/parreport/bao-cao/{AGENCY}/{KEY1}/",
                     "Biên nhận": f"/parreport/bien-nhan/{AGENCY}/{KEY1}",
                     "Tóm tắt lần chạy": f"/parreport/tom-tat/{AGENCY}/{KEY1}?run_id=r1"}
    other = plugin.DataDocsLink().get_link(None, ti_key=TaskInstanceKey("another_dag", "t", "r1"))
    not_yet = plugin.DataDocsLink().get_link(None, ti_key=TaskInstanceKey("quarterly_par_report", "t", "r2"))
    assert other == "" and not_yet == ""


def test_plugin_app_requires_airflow_authentication(plugin):
    from fastapi.testclient import TestClient

    with TestClient(plugin.ParreportViewsPlugin.fastapi_apps[0]["app"]) as c:
        assert c.get(f"/tom-tat/{AGENCY}/{KEY1}").status_code == 401
        assert c.get(f"/bao-cao/{AGENCY}/{KEY1}/v1/bien-nhan.json").status_code == 401
        assert c.get(f"/cach-ly/{AGENCY}/{KEY1}").status_code == 401
        assert c.get("/static/parreport.css").status_code == 200


# ------------------------------------------------------------------------------------------------
# a failed step (the task wrapper records it)
# ------------------------------------------------------------------------------------------------
def test_a_failed_step_is_recorded_and_the_run_tab_says_why_in_one_sentence(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from parreport import tasks

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for var in ("PARREPORT_STORE_URL", "PARREPORT_DATA_DIR", "PARREPORT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    period = pipeline.Period(AGENCY, W).as_dict()
    db.upgrade(load_settings().store_url)
    with pytest.raises(RuntimeError, match="chưa có số liệu"):
        tasks.build_report(period, "manual__2025-06-16T05:00:00+00:00")
    settings = load_settings()
    with st.Store(settings.store_url) as store:
        (event,) = store.run_events(AGENCY, KEY)
    assert (event["step"], event["outcome"]) == ("build", "failed") and "chưa có số liệu" in event["detail"]["error"]
    app = views.create_app(settings_loader=lambda: settings,
                           run_info=lambda ids: {i: {"state": "failed", "failed_tasks": ["report.build_report"]}
                                                 for i in ids})
    with TestClient(app) as c:
        text = _visible(c.get(f"/tom-tat/{AGENCY}/{KEY}").text)
    assert ("Lần chạy thất bại ở bước lập báo cáo, không gửi gì: chưa có số liệu cho kỳ này: chạy lại bước tính "
            "số liệu." in text)
    assert "Đã duyệt" not in text and "Traceback" not in text


def test_a_run_that_adopted_a_version_says_so():
    from datetime import datetime, timezone

    from parreport.ui.pages import run_outcome

    at = datetime(2025, 6, 16, tzinfo=timezone.utc)
    events = [{"step": "build", "outcome": "ok", "detail": {}, "at": at},
              {"step": "submit", "outcome": "adopted", "detail": {"version": 3, "MaTiepNhan": "SNV-3"}, "at": at},
              {"step": "submit", "outcome": "unchanged", "detail": {"version": 3, "MaTiepNhan": "SNV-3"}, "at": at}]
    assert run_outcome(events)["kind"] == "adopted" and run_outcome(events)["version"] == 3
    assert run_outcome(events[:1] + events[2:])["kind"] == "unchanged"
    assert run_outcome(events, {"state": "failed"})["airflow_failed"] is True
    failed = [{"step": "extract", "outcome": "failed", "detail": {"error": "x"}, "at": at}]
    assert run_outcome(failed, {"state": "running"})["kind"] == "running"  # a retry may still come
    assert run_outcome(failed, {"state": "failed"})["kind"] == "failed"


def test_a_long_quarantine_is_cut_on_the_page_not_in_the_download(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from parreport.config import Settings
    from parreport.ui.pages import quarantine

    monkeypatch.setattr(quarantine, "PAGE_LIMIT", 3)
    settings = Settings(data_dir=str(tmp_path), store_url=f"sqlite:///{tmp_path}/store.db")
    db.upgrade(settings.store_url)
    with st.Store(settings.store_url) as store:
        store.replace_partition(st.quarantine, AGENCY, KEY, [
            {"kind": "dossier", "seq": i, "ref": f"HS-{i}", "created_at": st.utcnow(),
             "violations": [{"rule": "missing_field", "field": "NgayCapNhat", "message": "Thiếu trường bắt buộc"}]}
            for i in range(5)])
        store.record_load(AGENCY, KEY, "dossiers", run_id="r", raw_dir="x", tong_so=5, delivered=5, staged=5,
                          duplicates=0)
    with TestClient(views.create_app(settings_loader=lambda: settings)) as c:
        text = _visible(c.get(f"/cach-ly/{AGENCY}/{KEY}").text)
        assert "Danh sách (5 bản ghi)" in text and "chỉ hiện 3 bản ghi đầu" in text
        assert "HS-2" in text and "HS-3" not in text
        assert len(c.get(f"/cach-ly/{AGENCY}/{KEY}/tai-ve.csv").content.decode("utf-8-sig").splitlines()) == 6


def test_a_run_that_failed_at_an_extract_task_names_it_in_words(tmp_path):
    """The task's words come from the one table (story.TASK_TEXT) the terminal's closing line uses too."""
    from fastapi.testclient import TestClient

    from parreport.config import Settings
    from parreport.demo import RunFacts, closing_line

    settings = Settings(data_dir=str(tmp_path), store_url=f"sqlite:///{tmp_path}/store.db")
    db.upgrade(settings.store_url)
    with st.Store(settings.store_url) as store:
        store.record_run_event(AGENCY, KEY, "manual__r", "extract", "ok", {"dataset": "dossiers", "delivered": 3})
    app = views.create_app(settings_loader=lambda: settings,
                           run_info=lambda ids: {i: {"state": "failed", "failed_tasks": ["report.extract.ratings"]}
                                                 for i in ids})
    with TestClient(app) as c:
        text = _visible(c.get(f"/tom-tat/{AGENCY}/{KEY}").text)
    assert "Lần chạy thất bại ở bước lấy đánh giá từ Cổng DVC và không gửi báo cáo nào" in text
    _, line = closing_line(RunFacts("manual__r", state="failed", failed_tasks=["report.extract.ratings"]), window=W,
                           agency_text=AGENCY, threshold=0.01, log_path=tmp_path / "run.log", agency=AGENCY)
    assert "ở bước lấy đánh giá từ Cổng DVC (report.extract.ratings)" in line


@pytest.mark.parametrize("outcome, state, words, cls", [
    ("approved", "DA_DUYET", "Sở Nội vụ đã duyệt", "ok"),
    ("returned", "TRA_LAI", "Sở Nội vụ trả lại", "bad")])
def test_the_receipts_later_state_reads_in_vietnamese_on_the_run_tab(tmp_path, outcome, state, words, cls):
    """receipt_follow_up records DA_DUYET / TRA_LAI under the sending run; its step reads in words."""
    from parreport.config import Settings
    from parreport.ui.pages import run as run_page
    from parreport.ui.urls import Urls

    settings = Settings(data_dir=str(tmp_path), store_url=f"sqlite:///{tmp_path}/store.db")
    db.upgrade(settings.store_url)
    with st.Store(settings.store_url) as store:
        store.record_run_event(AGENCY, KEY, "manual__r", "submit", "sent", {"version": 1, "MaTiepNhan": "SNV-1"})
        store.record_run_event(AGENCY, KEY, "manual__r", "receipt", outcome, {
            "MaTiepNhan": "SNV-1", "TrangThai": state, "PhienBan": 1, "LyDoTraLai": None, "message": "x"})
        story = run_page.run_story(store, settings, AGENCY, KEY, "manual__r", None, Urls("", ""))
    (step,) = [s for s in story["steps"] if s["title"] == run_page.STEP_TITLES["receipt"]]
    assert (step["outcome"], step["cls"]) == (words, cls)
