"""How the suites are run through GX (quality/gx_runner.py): what GX is given of an expectation,
what comes back with each result, and what GX's import leaves unloaded."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from parreport.quality.frames import records_frame
from parreport.quality.gx_runner import run_suites
from parreport.quality.suites import load_suite_dicts

from tests.support.quality_fixtures import HAND_MADE


def _two_rules_on_one_column() -> dict:
    """The ho_so suite's two rules about kieu:MaTTHC (missing_field, bad_type), nothing else."""
    suite = load_suite_dicts()["ho_so"]
    return dict(suite, expectations=[e for e in suite["expectations"] if e["kwargs"].get("column") == "kieu:MaTTHC"])


def test_each_result_carries_the_meta_of_its_own_expectation_and_the_evidence_keeps_it(tmp_path):
    suite = _two_rules_on_one_column()
    good = HAND_MADE["HM-OK-FULL"][0]
    records = [good, {k: v for k, v in good.items() if k != "MaTTHC"}, dict(good, MaTTHC=7)]
    out = run_suites({"ho_so": records_frame("ho_so", list(enumerate(records)))}, {}, run_name="meta",
                     suites={"ho_so": suite}, docs_dir=tmp_path)
    by_rule = {e.quy_tac: e for e in out["ho_so"].expectations}
    assert set(by_rule) == {"missing_field", "bad_type"}
    assert by_rule["missing_field"].failing_seqs == [1] and by_rule["bad_type"].failing_seqs == [2]
    for e in suite["expectations"]:
        o = by_rule[e["meta"]["quy_tac"]]
        assert (o.muc_do, o.truong, o.giai_thich) == (e["meta"]["muc_do"], e["meta"]["truong"], e["meta"]["giai_thich"])
    evidence = json.loads((tmp_path / "ket_qua" / "ho_so.json").read_text(encoding="utf-8"))
    kept = {(r["expectation_config"]["meta"]["quy_tac"], r["success"]) for r in evidence["results"]}
    assert kept == {("missing_field", False), ("bad_type", False)}
    assert all(r["expectation_config"]["meta"] in [e["meta"] for e in suite["expectations"]]
               for r in evidence["results"])


def test_gx_import_leaves_what_the_suites_never_use_unloaded_until_it_is_used(tmp_path):
    """scipy.stats and altair (KL-divergence / KS-test expectations and their charts) are not run
    at ``import great_expectations`` nor by a validation with Data Docs; they still work when used."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from parreport.quality.frames import records_frame
        from parreport.quality.gx_runner import DEFERRED_IMPORTS, import_gx, run_suites
        from tests.support.quality_fixtures import HAND_MADE

        assert not any(m in sys.modules for m in ("great_expectations", *DEFERRED_IMPORTS))
        import_gx()
        frame = records_frame("ho_so", [(0, HAND_MADE["HM-OK-FULL"][0])])
        run_suites({{"ho_so": frame}}, {{}}, run_name="lazy", docs_dir=Path({str(tmp_path)!r}))
        print(sorted(type(sys.modules[m]).__name__ for m in DEFERRED_IMPORTS))
        import scipy.stats
        print(round(float(scipy.stats.entropy([0.5, 0.5], [0.25, 0.75])), 4), type(sys.modules["scipy.stats"]).__name__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-2] == "['_LazyModule', '_LazyModule']"
    assert lines[-1] == "0.1438 module"
    assert (tmp_path / "index.html").is_file()


def _validated_world(home: Path, monkeypatch, plain: bool) -> dict:
    """The sandbox's planted faults and the hand-made records (tests/quality/test_validation.py's
    world), validated once; what the run leaves: outcomes with their failing rows, the
    quarantine, the stored check results and GX's validation result JSON (run times and GX's
    random ids left out)."""
    from parreport import db
    from parreport import store as st
    from parreport.quality.validation import validate_partition

    from tests.support.quality_fixtures import (AGENCY, NOT_OBJECT, PROCEDURES, RATINGS, UNITS, WINDOW,
                                                sandbox_records, stage)

    monkeypatch.setenv("PARREPORT_GX_PLAIN", "1" if plain else "0")
    db.upgrade(f"sqlite:///{home}/store.db")
    store = st.Store(f"sqlite:///{home}/store.db")
    try:
        ds, recs = sandbox_records()
        ratings = [ds.rating(int(j)) for j in ds.ratings_in(AGENCY, WINDOW.start_ts, WINDOW.end_ts)] + RATINGS
        stage(store, units=ds.units + UNITS[1:], procedures=ds.procedures_of(AGENCY) + PROCEDURES,
              dossiers=recs + [r for r, _ in HAND_MADE.values()] + NOT_OBJECT, ratings=ratings,
              stats={WINDOW.previous(): len(recs) // 3})
        outcomes: dict = {}
        validate_partition(store, agency=AGENCY, window=WINDOW, data_dir=home, run_id="same", threshold=1.0,
                           outcomes_sink=outcomes)
        evidence = {}
        for f in sorted(home.rglob("ket_qua/*.json")):
            d = json.loads(f.read_text(encoding="utf-8"))
            for k in ("run_id", "validation_time", "validation_id", "batch_markers"):
                d["meta"].pop(k)
            for r in d["results"]:
                r["expectation_config"].pop("id")
            evidence[f.name] = d
        return {"outcomes": {k: [dict(e.as_dict(), seqs=e.failing_seqs) for e in o.expectations]
                             for k, o in outcomes.items()},
                "quarantine": [{k: v for k, v in r.items() if k != "created_at"}
                               for r in store.rows(st.quarantine, AGENCY, WINDOW.key)],
                "checks": [r["content"]["KiemTra"] for r in store.rows(st.validation_results, AGENCY, WINDOW.key)],
                "evidence": evidence}
    finally:
        store.dispose()


def test_the_configuration_memo_changes_no_outcome_no_failing_row_and_no_result_json(tmp_path, monkeypatch):
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.validator.validator import Validator

    from parreport.quality.gx_runner import memoised_expectation_configuration

    plain_config, plain_graph = Expectation.__dict__["configuration"], Validator.__dict__["graph_validate"]
    with memoised_expectation_configuration() as in_force:
        assert in_force  # the pinned GX version: the memo is what runs
        assert Expectation.__dict__["configuration"] is not plain_config
    assert (Expectation.__dict__["configuration"], Validator.__dict__["graph_validate"]) == (plain_config, plain_graph)
    monkeypatch.setenv("PARREPORT_GX_PLAIN", "1")
    with memoised_expectation_configuration() as in_force:
        assert not in_force and Expectation.__dict__["configuration"] is plain_config

    plain = _validated_world(tmp_path / "plain", monkeypatch, plain=True)
    memo = _validated_world(tmp_path / "memo", monkeypatch, plain=False)
    assert sum(len(e["seqs"]) for o in plain["outcomes"].values() for e in o) > 50  # rows fail, for many rules
    assert len(plain["quarantine"]) > 20 and set(plain["evidence"]) == {f"{k}.json" for k in plain["outcomes"]}
    assert memo["outcomes"] == plain["outcomes"]
    assert memo["quarantine"] == plain["quarantine"]
    assert memo["checks"] == plain["checks"]
    assert memo["evidence"] == plain["evidence"]


def test_timestamps_compared_in_order_reach_gx_as_the_instants_they_name_with_the_same_verdicts(tmp_path):
    """GX copies its batch frame often; text columns are the dearest to copy. The timestamp
    columns the suites compare in order (K ≥ T, due date ≥ receipt date) reach GX as datetime64
    (null = NaT), ``ref`` as a categorical; the verdicts are those of the texts compared as
    fixed-width instants, at the calendar's edges too."""
    from tests.support.quality_fixtures import VALID, changed

    from parreport.quality.gx_runner import _narrow

    pairs = [  # (NgayTiepNhan, NgayKetThucXuLy, NgayHenTra)
        ("20250105090000", "20250105090000", "20250105170000"),  # K = T: allowed
        ("20250105090000", "20250105085959", "20250104235959"),  # K one second before T; due the day before
        ("00010101000000", "99991231235959", "99991231235959"),  # the calendar's first and last instants
        ("20240229235959", "20240301000000", "20240229000000"),  # a leap day; due the same day (a date)
        ("99991231235959", "00010101000000", "00010101000000"),
        ("20250105090000", None, None),  # K and the due date absent: nothing compared
        ("2025010509000", "20250105090000", "20250105"),  # T not an instant: nothing compared
    ]
    records = [changed(VALID, MaHoSo=f"HS-{i}", NgayTiepNhan=t, NgayKetThucXuLy=k, NgayHenTra=h)
               for i, (t, k, h) in enumerate(pairs)]
    suite = load_suite_dicts()["ho_so"]
    rules = {"K_before_T", "due_before_receipt"}
    suite = dict(suite, expectations=[e for e in suite["expectations"] if e["meta"]["quy_tac"] in rules])
    frame = records_frame("ho_so", list(enumerate(records)))
    given = _narrow(frame, suite["expectations"])
    for column in ("thoi_diem_ket_thuc", "thoi_diem:NgayTiepNhan", "ngay_thang:NgayHenTra", "ngay_thang:NgayTiepNhan"):
        assert str(given[column].dtype) == "datetime64[s]", column
    assert given["thoi_diem:NgayTiepNhan"].tolist()[2] == pd.Timestamp("0001-01-01 00:00:00")
    assert given["ngay_thang:NgayHenTra"].isna().tolist() == [False, False, False, False, False, True, True]
    assert isinstance(given["ref"].dtype, pd.CategoricalDtype) and given["ref"].tolist() == frame["ref"].tolist()

    out = run_suites({"ho_so": frame}, {}, run_name="instants", suites={"ho_so": suite}, docs_dir=tmp_path)
    failing = {e.quy_tac: e.failing_seqs for e in out["ho_so"].expectations}

    def valid(ts):
        return isinstance(ts, str) and len(ts) == 14 and ts.isdigit()

    assert failing["K_before_T"] == [i for i, (t, k, _) in enumerate(pairs) if valid(t) and valid(k) and k < t] == [1, 4]
    assert failing["due_before_receipt"] == [i for i, (t, _, h) in enumerate(pairs)
                                             if valid(t) and valid(h) and h[:8] < t[:8]] == [1, 4]
    shown = json.loads((tmp_path / "ket_qua" / "ho_so.json").read_text(encoding="utf-8"))
    samples = {r["expectation_config"]["meta"]["quy_tac"]: r["result"]["partial_unexpected_list"] for r in shown["results"]}
    assert samples["K_before_T"][0] == ["2025-01-05T08:59:59", "2025-01-05T09:00:00"]
    assert samples["due_before_receipt"][0] == ["2025-01-04T00:00:00", "2025-01-05T00:00:00"]


def test_instants_are_read_as_pandas_reads_them_and_a_text_that_is_no_instant_is_refused():
    import numpy as np

    from parreport.quality.gx_runner import GXRunError, _for_gx, _instants

    rng = np.random.default_rng(5)
    seconds = rng.integers(-62_135_596_800, 253_402_300_799, 5_000)  # 0001-01-01 … 9999-12-31 23:59:59
    texts = [pd.Timestamp(int(s), unit="s").strftime("%Y%m%d%H%M%S").rjust(14, "0") for s in seconds]
    texts += ["00010101000000", "99991231235959", "20240229235959", "20000229000000", "19000228235959", None, None]
    values = pd.DataFrame({"t": np.array(texts, dtype=object)})["t"]
    assert _instants(values, 14).equals(pd.to_datetime(values, format="%Y%m%d%H%M%S").astype("datetime64[s]"))
    dates = values.str.slice(0, 8)
    assert _instants(dates, 8).equals(pd.to_datetime(dates, format="%Y%m%d").astype("datetime64[s]"))
    # texts that name no instant (pandas reads the 60th second and the 13 digits): refused, loudly
    for bad in ("20250230000000", "20251301000000", "20250131240000", "20250131235960", "00000101000000",
                "2025013100000x", "202501310000001", "2025013100000", "2025013100000đ"):
        odd = pd.Series([bad, "20250105090000", None], dtype="str")
        assert _instants(odd, 14) is None, bad
        with pytest.raises(GXRunError):
            _for_gx("thoi_diem:NgayTiepNhan", odd, True)
    assert _instants(pd.Series(["20250229", "20250105"], dtype="str"), 8) is None


def test_a_frame_validated_in_two_parts_gives_the_outcomes_order_quarantine_and_result_json_of_one(
        tmp_path, monkeypatch):
    """A large, wide frame goes to GX in two parts (expectations on columns without nulls; the
    others on a frame of their own columns): the outcomes (and their order, which KiemTra
    follows), the failing rows, the quarantine and the merged result JSON are those of one
    part; only each result's batch says which part computed it. Data Docs show both parts."""
    from parreport.quality import gx_runner

    whole = _validated_world(tmp_path / "whole", monkeypatch, plain=False)
    monkeypatch.setattr(gx_runner, "SPLIT_MIN_ROWS", 0)
    monkeypatch.setattr(gx_runner, "SPLIT_MIN_COLUMNS", 0)
    parts = _validated_world(tmp_path / "parts", monkeypatch, plain=False)
    assert parts["outcomes"] == whole["outcomes"]
    assert parts["quarantine"] == whole["quarantine"] and parts["checks"] == whole["checks"]
    moved = 0
    for name, result in parts["evidence"].items():
        for r in result["results"]:
            batch = r["expectation_config"]["kwargs"].pop("batch_id")
            moved += batch.endswith("_cot_co_o_trong")
        for r in whole["evidence"][name]["results"]:
            r["expectation_config"]["kwargs"].pop("batch_id")
    assert moved > 10  # the ho_so and danh_gia suites were validated in two parts
    assert parts["evidence"] == whole["evidence"]
    pages = {p.name for p in (tmp_path / "parts").rglob("validations/**/*.html")}
    assert {"kho_du_lieu-ho_so.html", "kho_du_lieu-ho_so_cot_co_o_trong.html"} <= pages


def test_nothing_of_a_validation_stays_alive_after_it():
    """GX keeps the context it made last, with every batch's frame and every metric on it; the
    next task of an `airflow dags test` process would start from all that. run_suites lets it go."""
    import gc

    good, bad = HAND_MADE["HM-OK-FULL"][0], HAND_MADE["HM-K-BEFORE-T"][0]
    rows = 937  # a length no other frame of the test session has
    records = [dict(good if i % 4 else bad, MaHoSo=f"HS{i}") for i in range(rows)]
    out = run_suites({"ho_so": records_frame("ho_so", list(enumerate(records)))}, {}, run_name="buong")
    assert any(e.failing_seqs for e in out["ho_so"].expectations)  # it did validate
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, (pd.DataFrame, pd.Series)) and len(o) == rows]
    assert alive == []
