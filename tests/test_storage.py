"""storage.py: the artefacts one task leaves for another live in shared storage named by a URL.

Two "workers" — two Settings with separate local data directories — share one S3-compatible
object store (moto's server on 127.0.0.1): one extracts, the other loads, validates, computes,
builds and submits. Every raw page, the Data Docs, the quarantine snapshot and the report's
files are objects in the bucket; neither worker's local folder holds any of them. The
multi-process proof with Airflow's Celery workers is tests/system/test_production_stack.py.
"""
from __future__ import annotations

import json
import uuid

import pytest

from parreport import pipeline, storage
from parreport.config import Settings, load_settings
from parreport.http import Endpoint
from parreport.kinds import DATASETS
from parreport.periods import window_for
from parreport.report.signing import generate_keypair
from parreport.sandbox.runner import run_sandbox
from tests.support.objstore import s3_server

AGENCY = "000.00.20.H57"
BUCKET = "parreport-test"


def test_a_local_folder_is_a_path_and_a_url_is_an_object_store_path(tmp_path):
    local = load_settings({"AIRFLOW_HOME": str(tmp_path)})
    assert local.storage == tmp_path / "parreport" and storage.is_local(local.storage)  # today's folder
    assert storage.as_path(f"file://{tmp_path}/x") == tmp_path / "x"
    remote = load_settings({"AIRFLOW_HOME": str(tmp_path), "PARREPORT_STORAGE_URL": "s3://bucket/prefix",
                            "PARREPORT_STORAGE_CONN_ID": "parreport_storage"})
    root = remote.storage
    assert not storage.is_local(root) and root.protocol == "s3" and root.conn_id == "parreport_storage"
    # what XCom and the store keep (a string) turns back into the same place, connection included
    again = storage.as_path(str(root / "raw" / "a"))
    assert again.conn_id == "parreport_storage" and again.path == (root / "raw" / "a").path


def test_two_workers_hand_a_quarter_over_through_the_object_store(tmp_path, monkeypatch):
    conn_id = "storage_" + uuid.uuid4().hex[:8]  # Airflow caches a connection's file system by id
    private_pem, public_pem = generate_keypair()
    with s3_server(tmp_path / "logs") as s3, \
            run_sandbox(seed=5, dossiers_per_quarter=300, agency=AGENCY, public_keys={"k1": public_pem}) as sb:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", s3.connection())
        store_url = f"sqlite:///{tmp_path}/store.db"
        worker = {name: Settings(agency=AGENCY, data_dir=str(tmp_path / name), store_url=store_url,
                                 storage_url=f"s3://{BUCKET}/quarters", storage_conn_id=conn_id,
                                 page_size=100, blocking_threshold=0.05)
                  for name in ("a", "b")}
        assert storage.check(worker["a"]) == f"s3://{conn_id}@{BUCKET}/quarters"  # creates the bucket
        from parreport import db

        db.upgrade(store_url)
        period = pipeline.Period(AGENCY, window_for(2025, 1))
        run_id = "manual__2025-04-01T00:00:00+00:00"
        extracts = {ds: pipeline.extract(worker["a"], Endpoint(sb.portal_url, *sb.portal_client), period, run_id, ds)
                    for ds in DATASETS}
        # what travels in XCom names the object store, never worker a's disk
        assert all(e["raw_dir"].startswith(f"s3://{conn_id}@{BUCKET}/quarters/raw/") for e in extracts.values())
        loaded = pipeline.load(worker["b"], period, json.loads(json.dumps(extracts)), run_id)
        assert loaded["dossiers"]["delivered"] == extracts["dossiers"]["delivered"] > 0
        validated = pipeline.validate(worker["b"], period, run_id)
        pipeline.compute(worker["b"], period, run_id)
        pipeline.build_report(worker["b"], period, run_id)
        sent = pipeline.submit(worker["a"], Endpoint(sb.intake_url, *sb.intake_client[:2]), private_pem, "k1",
                               period, run_id)
        assert sent["sent"] and len(sb.accepted()) == 1

        keys = s3.keys(BUCKET, "quarters/")
        key = period.window.key
        slug = "manual__2025-04-01T00_00_00_00_00"
        evidence = f"quarters/data_docs/{AGENCY}/{key}/{slug}/"
        raw = [k for k in keys if k.startswith(f"quarters/raw/{AGENCY}/{key}/{slug}/dossiers/page-")]
        assert len(raw) == extracts["dossiers"]["pages"] > 1
        for name in ("index.html", "tom-tat.html", "cach-ly.json", "ket_qua/ho_so.json"):
            assert evidence + name in keys, name
        quarantine = json.loads(s3.client().get_object(Bucket=BUCKET, Key=evidence + "cach-ly.json")["Body"].read())
        assert len([i for i in quarantine["items"] if i["kind"] == "dossier"]) == validated["quarantined"]
        report = f"quarters/reports/{AGENCY}/{key}/v1/"
        assert {report + "bao-cao.json", report + "bien-nhan.json"} <= set(keys)
        assert any(k.startswith(report) and k.endswith(".pdf") for k in keys)
        assert sent["receipt_path"] == f"s3://{conn_id}@{BUCKET}/{report}bien-nhan.json"
        # receipt_follow_up's later decision goes to the same object
        from parreport import store as st

        with st.Store(store_url) as store:
            pipeline.record_receipt(store, worker["b"], period, {**sb.accepted()[0]["receipt"], "TrangThai": "DA_DUYET"})
        receipt = json.loads(s3.client().get_object(Bucket=BUCKET, Key=report + "bien-nhan.json")["Body"].read())
        assert receipt["TrangThai"] == "DA_DUYET"
        # nothing was left on either worker's own disk
        for name in ("a", "b"):
            assert not any(p.is_file() for p in (tmp_path / name).rglob("*"))
        # the operator's pages find the same files through the same root
        from parreport.ui.paths import data_docs_root, files, reports_root, safe_path, subdirs, version_dirs

        runs = subdirs(data_docs_root(worker["a"], AGENCY, key))
        assert [p.name for p in runs] == [slug]
        assert safe_path(data_docs_root(worker["a"], AGENCY, key), slug, "tom-tat.html").read_bytes().startswith(
            b"<!doctype html>")
        versions = version_dirs(reports_root(worker["a"], AGENCY, key))
        assert [v for v, _ in versions] == [1]
        assert {"bao-cao.json", "bien-nhan.json"} <= {p.name for p in files(versions[0][1])}
        assert storage.relative_name(versions[0][1] / "a" / "b.pdf", versions[0][1]) == "a/b.pdf"
        newest = max(storage.mtime(f) for f in files(runs[0]))  # a folder's time: its newest object's
        assert storage.mtime(runs[0]) == newest > 0
        from parreport.ui.paths import NotFound

        with pytest.raises(NotFound):
            safe_path(data_docs_root(worker["a"], AGENCY, key), slug, "..", "..", "x")


def test_a_scratch_folder_that_will_not_be_published_is_removed(tmp_path):
    """A validation that fails inside GX leaves nothing half-built in /tmp (bucket storage); a
    local destination is built in place and left to the retry that replaces it."""
    from airflow.sdk import ObjectStoragePath

    dest = ObjectStoragePath("s3://parreport-artefacts/data_docs/x")
    work = storage.scratch_dir(dest)
    assert work.is_dir() and not storage.is_local(dest)
    (work / "index.html").write_text("x", encoding="utf-8")
    storage.discard_scratch(work, dest)
    assert not work.exists()
    local = tmp_path / "docs"
    assert storage.scratch_dir(local) == local
    local.mkdir()
    storage.discard_scratch(local, local)
    assert local.is_dir()
