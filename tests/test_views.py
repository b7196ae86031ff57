"""The operator's view (include/parreport/views.py, plugins/parreport_views.py): the run summary
reads the store, the data trees are served read-only, and no path leads out of them."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

from parreport import db
from parreport import store as st
from parreport import views
from parreport.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
AGENCY, KEY, RUN = "000.00.20.H57", "2025Q1_20241215_20250314", "manual__2025-03-20T01:00:00+00:00"
SLUG = "manual__2025-03-20T01_00_00_00_00"
SECRET = "KHONG-DUOC-LO-RA"


def _tong():
    return {"MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng",
            "TiepNhan": {"Tong": 6220, "TrucTuyen": 2083, "TrucTiepBuuChinh": 2721, "KyTruocChuyenSang": 1416},
            "DaGiaiQuyet": {"Tong": 4698, "TruocHan": 2351, "DungHan": 1476, "QuaHan": 871},
            "DangGiaiQuyet": {"Tong": 1522, "TrongHan": 695, "QuaHan": 827}}


def _indicator(code, scope, ok, value=50.0):
    return {"MaChiTieu": code, "TenChiTieu": f"Chỉ tiêu {code}", "PhamVi": scope, "TuSo": 1, "MauSo": 2,
            "GiaTri": value, "DonViTinh": "%", "MucTieu": 90, "SoSanh": ">=", "DatMucTieu": ok}


@pytest.fixture()
def installation(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("PARREPORT_DATA_DIR", str(data))
    monkeypatch.delenv("PARREPORT_STORE_URL", raising=False)
    monkeypatch.delenv("PARREPORT_CONFIG", raising=False)
    settings = load_settings()
    db.upgrade(settings.store_url)
    store = st.Store(settings.store_url)
    store.record_load(AGENCY, KEY, "dossiers", run_id=RUN, raw_dir="x", tong_so=6523, delivered=6523, staged=6449,
                      duplicates=74)
    store.record_load(AGENCY, KEY, "ratings", run_id=RUN, raw_dir="x", tong_so=1559, delivered=1559, staged=1559,
                      duplicates=0)
    store.replace_partition(st.quarantine, AGENCY, KEY, [
        {"kind": "dossier", "seq": 1, "ref": "HS-1", "violations": [{"rule": "missing_field", "field": "A", "message": "m"}]},
        {"kind": "dossier", "seq": 2, "ref": "HS-2", "violations": [{"rule": "missing_field", "field": "B", "message": "m"},
                                                                    {"rule": "bad_code", "field": "C", "message": "m"}]},
        {"kind": "rating", "seq": 3, "ref": "DG-1", "violations": [{"rule": "bad_type", "field": "D", "message": "m"}]},
    ])
    indicators = [_indicator("HS_TRUC_TUYEN", AGENCY, False), _indicator("HS_DUNG_HAN", AGENCY, True, 95.0),
                  _indicator("HS_TRUC_TUYEN", "000.01.20.H57", False)]
    content = {"Bieu06": [{"MaLinhVuc": "NCC"}, _tong()], "ChiTieu": indicators,
               "ChatLuongDuLieu": {"SoBanGhi": 6449, "SoBanGhiLoai": 2, "DoiSoatCongDVC": [{}]}}
    store.save_figures(AGENCY, KEY, content, RUN)
    body = {"MaDonViBaoCao": AGENCY, "TenDonViBaoCao": "Sở Lao động – Thương binh và Xã hội <Huế>",
            "KyBaoCao": {"Nam": 2025, "Quy": 1, "TuNgay": "2024-12-15", "DenNgay": "2025-03-14"},
            "PhienBan": 1, "LyDoDieuChinh": None, "NgayLap": "2025-03-20T08:00:00+07:00", **content}
    receipt = {"MaTiepNhan": "SNV-2025-000042", "TrangThai": "DA_DUYET", "PhienBan": 1,
               "ThoiDiemTiepNhan": "2025-03-20T08:01:00+07:00"}
    store.upsert_report(AGENCY, 2025, 1, 1, window_key=KEY, figures_sha="f" * 64, body=body, content_sha="c" * 64,
                        idempotency_key="CCHC-k", status="ACCEPTED", receipt=receipt, run_id=RUN)
    store.dispose()

    docs = data / "data_docs" / AGENCY / KEY / SLUG
    (docs / "validations").mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>GX Data Docs</body></html>", encoding="utf-8")
    (docs / "validations" / "ho-so.html").write_text("<p>hồ sơ</p>", encoding="utf-8")
    folder = data / "reports" / AGENCY / KEY / "v1"
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


@pytest.fixture()
def client(installation):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    periods = {"manual__one": [{"agency": AGENCY, "window_key": KEY, "year": 2025, "quarter": 1, "label": "Q1"}],
               "manual__many": [{"agency": AGENCY, "window_key": KEY, "label": "Q1"},
                                {"agency": "000.00.21.H57", "window_key": KEY, "label": "Q1"}]}
    outer = FastAPI()
    outer.mount("/parreport", views.create_app(period_lookup=lambda d, r, m=None: periods.get(r, [])))
    with TestClient(outer) as c:
        yield c


def test_summary_shows_what_was_extracted_quarantined_sent_and_the_receipt(client):
    page = client.get(f"/parreport/tom-tat/{AGENCY}/{KEY}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    text = page.text
    assert "Tóm tắt báo cáo CCHC — Quý 1/2025 (từ 2024-12-15 đến 2025-03-14)" in text
    assert "Sở Lao động – Thương binh và Xã hội &lt;Huế&gt;" in text  # escaped
    for number in ("6.523", "6.449", "6.220", "2.083", "4.698", "1.522"):
        assert number in text, number
    assert "SNV-2025-000042" in text and "Đã duyệt" in text
    assert f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/index.html" in text
    assert f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json" in text
    assert "bieu-06_2025Q1.xlsx" in text and ".hidden" not in text

    data = client.get(f"/parreport/api/tom-tat/{AGENCY}/{KEY}").json()
    assert data["extracted"]["dossiers"]["delivered"] == 6523
    assert data["quarantined"] == {"dossiers": 2, "ratings": 1,
                                   "by_rule": {"dossier": {"missing_field": 2, "bad_code": 1},
                                               "rating": {"bad_type": 1}}}
    assert data["sent"]["version"] == 1 and data["sent"]["TONG"]["TiepNhan"]["Tong"] == 6220
    assert data["sent"]["indicators"] == 3 and data["sent"]["targets_missed"] == 2
    assert data["versions"][0]["MaTiepNhan"] == "SNV-2025-000042"
    assert data["data_docs"]["runs"] == [SLUG] and data["receipt_version"] == 1


def test_unknown_partition_is_404(client):
    assert client.get(f"/parreport/tom-tat/{AGENCY}/2024Q4_x").status_code == 404
    assert client.get("/parreport/tom-tat/..%2F..%2Fetc/x").status_code == 404


def test_files_are_served_read_only_with_their_type(client):
    r = client.get(f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json")
    assert r.status_code == 200 and r.json()["MaTiepNhan"] == "SNV-2025-000042"
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    r = client.get(f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/validations/ho-so.html")
    assert r.status_code == 200 and "hồ sơ" in r.text
    assert client.get(f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/").text.count("GX Data Docs") == 1
    assert client.post(f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json").status_code == 405
    assert client.delete(f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json").status_code == 405
    listing = client.get(f"/parreport/bao-cao/{AGENCY}/{KEY}/")
    assert "v1/bao-cao.json" in listing.text and "v1/bieu-06_2025Q1.xlsx" in listing.text
    receipt = client.get(f"/parreport/bien-nhan/{AGENCY}/{KEY}", follow_redirects=False)
    assert receipt.status_code == 307
    assert receipt.headers["location"] == f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json"
    index = client.get("/parreport/")
    assert f"/parreport/tom-tat/{AGENCY}/{KEY}" in index.text


TRAVERSALS = [
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/..%2F..%2F..%2Fsecret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/..%5C..%5C..%5Csecret.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/%2Fetc%2Fpasswd",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1//etc/passwd",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/.hidden",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/lien-ket.json",  # symlink out of the tree
    f"/parreport/bao-cao/{AGENCY}/{KEY}/v1/bao-cao.json%00.txt",
    f"/parreport/bao-cao/{AGENCY}/{KEY}/..%2F..%2F/secret.txt",
    f"/parreport/bao-cao/{AGENCY}/..%2F..%2F/v1/secret.txt",
    f"/parreport/bao-cao/..%2F..%2F..%2F/{KEY}/v1/secret.txt",
    f"/parreport/bao-cao/%2e%2e/%2e%2e/v1/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY}/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/thoat/outside.txt",  # symlinked directory
    f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/thoat/data/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY}/.%2e/.%2e/.%2e/secret.txt",
    f"/parreport/data-docs/{AGENCY}/{KEY}/{SLUG}/validations",  # a directory is not a file
    f"/parreport/data-docs/{AGENCY}/{KEY}/%2Ftmp/secret.txt",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_leads_out_of_the_served_trees(client, url):
    r = client.get(url, follow_redirects=True)
    assert r.status_code == 404, (url, r.status_code)
    assert SECRET not in r.text


def test_safe_path_directly(installation, tmp_path):
    root = installation.data_path / "reports" / AGENCY / KEY
    assert views.safe_path(root, "v1", "bao-cao.json").name == "bao-cao.json"
    for parts in (("..", "..", "secret.txt"), ("v1/../../../secret.txt",), ("/etc/passwd",), ("v1", "lien-ket.json"),
                  ("v1", ".hidden"), ("v1\\..\\..",), ("v1", "nope.json"), (str(tmp_path / "outside.txt"),)):
        with pytest.raises(views.NotFound):
            views.safe_path(root, *parts)
    for bad in ("..", ".", "", "a/b", "../x", "x\x00"):
        with pytest.raises(views.NotFound):
            views.safe_name(bad)


def test_from_a_run_to_its_pages(client):
    r = client.get("/parreport/lan-chay/tom-tat/quarterly_par_report/manual__one", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"/parreport/tom-tat/{AGENCY}/{KEY}?run_id=manual__one"
    r = client.get("/parreport/lan-chay/bien-nhan/quarterly_par_report/manual__one")
    assert r.status_code == 200 and r.json()["MaTiepNhan"] == "SNV-2025-000042"
    many = client.get("/parreport/lan-chay/data-docs/quarterly_par_report/manual__many")
    assert many.status_code == 200 and "000.00.21.H57" in many.text
    missing = client.get("/parreport/lan-chay/tom-tat/quarterly_par_report/manual__none")
    assert missing.status_code == 404 and "resolve_period" in missing.text
    assert client.get("/parreport/lan-chay/xoa/quarterly_par_report/manual__one").status_code == 404


def test_xcom_values_decode_to_the_period():
    period = {"agency": AGENCY, "window_key": KEY, "year": 2025, "quarter": 1}
    assert views.decode_xcom(period) == period
    assert views.decode_xcom(json.dumps(period)) == period
    assert views.decode_xcom(json.dumps(json.dumps(period))) == period
    assert views._as_period("not json") is None and views._as_period({"agency": 1}) is None


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

    period = {"agency": AGENCY, "window_key": KEY, "year": 2025, "quarter": 1}
    monkeypatch.setattr(plugin.views, "airflow_period_lookup", lambda d, r, m=None: [period] if r == "r1" else [])
    links = {link.name: link.get_link(None, ti_key=TaskInstanceKey("quarterly_par_report", "submit_report", "r1"))
             for link in plugin.ParreportViewsPlugin.global_operator_extra_links}
    assert links == {"Data Docs": f"/parreport/data-docs/{AGENCY}/{KEY}/?run_id=r1",
                     "Báo cáo & tệp đính kèm": f"/parreport/bao-cao/{AGENCY}/{KEY}/",
                     "Biên nhận": f"/parreport/bien-nhan/{AGENCY}/{KEY}",
                     "Tóm tắt lần chạy": f"/parreport/tom-tat/{AGENCY}/{KEY}?run_id=r1"}
    other = plugin.DataDocsLink().get_link(None, ti_key=TaskInstanceKey("another_dag", "t", "r1"))
    not_yet = plugin.DataDocsLink().get_link(None, ti_key=TaskInstanceKey("quarterly_par_report", "t", "r2"))
    assert other == "" and not_yet == ""


def test_plugin_app_requires_airflow_authentication(plugin):
    from fastapi.testclient import TestClient

    with TestClient(plugin.ParreportViewsPlugin.fastapi_apps[0]["app"]) as c:
        assert c.get(f"/tom-tat/{AGENCY}/{KEY}").status_code == 401
        assert c.get(f"/bao-cao/{AGENCY}/{KEY}/v1/bien-nhan.json").status_code == 401
