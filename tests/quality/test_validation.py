"""Validation through the GX suites: planted faults are quarantined with the right rule, valid
records never are, GX agrees with the independent pure-Python reading of §5
(tests/support/rules.py) record by record and rule by rule, Data Docs are written,
ChatLuongDuLieu states the counts, the threshold stops the run, and the suites in
expectations/ are the rulebook (an edit changes the next run)."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from parreport import db, pipeline
from parreport import store as st
from parreport.config import Settings
from parreport.quality import chunks
from parreport.quality.suites import expectations_dir, load_suite_dicts
from parreport.quality.validation import (
    BlockingFailuresExceeded,
    data_docs_index,
    quality_results,
    summary_page,
    units_below,
    validate_partition,
)

from tests.support.stores import new_store
from tests.support.rules import RULE_TITLES, RuleContext, check_dossier, check_rating, valid_timestamp
from tests.support.quality_fixtures import (
    AGENCY,
    HAND_MADE,
    NOT_OBJECT,
    PROCEDURES,
    RATING_EXPECTED,
    RATINGS,
    UNITS,
    WINDOW,
    sandbox_records,
    stage,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One staged partition: sandbox dossiers (with the generator's planted faults) + the
    hand-made records, validated once with Data Docs."""
    home = tmp_path_factory.mktemp("q")
    db.upgrade(f"sqlite:///{home}/store.db")
    store = st.Store(f"sqlite:///{home}/store.db")
    ds, recs = sandbox_records()
    assert ds.agency == AGENCY
    units = ds.units + UNITS[1:]
    procedures = ds.procedures_of(AGENCY) + PROCEDURES
    dossiers = recs + [r for r, _ in HAND_MADE.values()] + NOT_OBJECT
    ratings = [ds.rating(int(j)) for j in ds.ratings_in(AGENCY, WINDOW.start_ts, WINDOW.end_ts)] + RATINGS
    stage(store, units=units, procedures=procedures, dossiers=dossiers, ratings=ratings, run_id="manual__2025-04-01",
          stats={WINDOW.previous(): len(dossiers) // 3})
    outcomes: dict = {}
    summary = validate_partition(store, agency=AGENCY, window=WINDOW, data_dir=home, run_id="manual__2025-04-01",
                                 threshold=0.5, outcomes_sink=outcomes)
    ctx = RuleContext({p["MaTTHC"] for p in procedures}, units_below(units, AGENCY))
    yield {"store": store, "home": home, "ds": ds, "recs": recs, "dossiers": dossiers, "ratings": ratings,
           "summary": summary, "ctx": ctx, "outcomes": outcomes, "units": units, "procedures": procedures}
    store.dispose()


def quarantined(store, kind="dossier"):
    return {r["seq"]: r for r in store.rows(st.quarantine, AGENCY, WINDOW.key) if r["kind"] == kind}


def test_every_planted_fault_is_quarantined_with_its_rule_and_no_valid_record_is(world):
    q = quarantined(world["store"])
    by_ref = {r["ref"]: {v["rule"] for v in r["violations"]} for r in q.values()}
    # sandbox: the generator's ground truth
    planted = {d["MaHoSo"]: rules for d in world["recs"] if (rules := world["ds"].invalid.get(d["MaHoSo"]))}
    assert planted
    for ma, rules in planted.items():
        assert rules <= by_ref.get(ma, set()), (ma, rules, by_ref.get(ma))
    # hand-made: exactly the expected rules, and valid ones are not there
    for ma, (_, rules) in HAND_MADE.items():
        assert by_ref.get(ma, set()) == rules, ma
    sandbox_valid = {d["MaHoSo"] for d in world["recs"]} - set(planted)
    assert not sandbox_valid & set(by_ref)
    # the record that is not an object
    seq_not_object = len(world["dossiers"]) - 1
    assert {v["rule"] for v in q[seq_not_object]["violations"]} == {"bad_type"}


def test_each_violation_is_stored_with_field_and_vietnamese_message(world):
    q = {r["ref"]: r for r in quarantined(world["store"]).values()}
    many = q["HM-MANY"]["violations"]
    assert {(v["rule"], v["field"]) for v in many} == {("unknown_procedure", "MaTTHC"),
                                                       ("unit_outside_agency", "DonViXuLy"),
                                                       ("bad_code", "KenhThucHien"),
                                                       ("bad_timestamp", "NgayHenTra")}
    assert all(v["message"] for v in many)
    assert "danh mục" in next(v["message"] for v in many if v["rule"] == "unknown_procedure")
    assert q["HM-FEE"]["violations"][0]["field"] == "DanhSachLePhi[1].Gia"


def test_gx_verdict_equals_rules_py_per_record_and_rule(world):
    # the GX outcomes of the run vs the independent reading, record by record and rule by rule
    ctx, out = world["ctx"], world["outcomes"]
    for kind, records, check in (("ho_so", world["dossiers"], check_dossier), ("danh_gia", world["ratings"], check_rating)):
        gx: dict[int, set] = {}
        for e in out[kind].expectations:
            if e.success is False and e.muc_do == "CHAN" and e.quy_tac != "duplicate_id":
                for s in e.failing_seqs:
                    gx.setdefault(s, set()).add(e.quy_tac)
        py = {i: {v.rule for v in check(r, ctx)} for i, r in enumerate(records)}
        py = {i: r for i, r in py.items() if r}
        assert gx == py
    skipped = [e for e in out["ho_so"].expectations if e.skipped]
    assert {e.quy_tac for e in skipped} == {"volume_vs_year_before"}


def test_ratings_are_judged_on_their_own(world):
    q = {r["ref"]: {v["rule"] for v in r["violations"]} for r in quarantined(world["store"], "rating").values()}
    for ma, rules in RATING_EXPECTED.items():
        assert q.get(ma, set()) == rules, ma
    accepted = {r["ma_danh_gia"] for r in world["store"].rows(st.ratings, AGENCY, WINDOW.key,
                                                              st.accepted(st.ratings))}
    assert "DG-OK" in accepted  # rates a dossier older than the window: still valid


def test_staged_equals_accepted_plus_quarantined(world):
    rows = list(world["store"].rows(st.dossiers, AGENCY, WINDOW.key))
    q = quarantined(world["store"])
    accepted = {r["seq"] for r in world["store"].rows(st.dossiers, AGENCY, WINDOW.key, st.accepted(st.dossiers))}
    assert {r["seq"] for r in rows if r["accepted"] is False} == set(q) == {r["seq"] for r in rows} - accepted
    assert set(q) and accepted
    s = world["summary"]
    assert s["dossiers"] == len(rows) == s["accepted"] + s["quarantined"]


def test_chat_luong_du_lieu_states_every_check(world):
    store = world["store"]
    quality = pipeline._quality(store, pipeline.Period(AGENCY, WINDOW), [], [])
    assert quality["SoBanGhi"] == len(world["dossiers"])
    assert quality["SoBanGhiLoai"] == world["summary"]["quarantined"]
    assert quality["SoBanGhiDaSua"] == 0
    checks = {c["Ten"]: c for c in quality["KiemTra"]}
    assert all(c["MucDo"] in ("CHAN", "CANH_BAO") and c["KetQua"] in ("DAT", "KHONG_DAT") and c["SoLoi"] >= 0
               for c in quality["KiemTra"])
    assert checks["Hồ sơ: Thời điểm không đúng dạng yyyyMMddHHmmss hoặc không có thật"]["SoLoi"] >= 9
    assert checks["Hồ sơ: Mã thủ tục hành chính không có trong danh mục"]["KetQua"] == "KHONG_DAT"
    due = checks["Hồ sơ: Ngày hẹn trả sớm hơn ngày tiếp nhận"]
    assert due["MucDo"] == "CANH_BAO" and due["SoLoi"] >= 1
    assert checks["Đánh giá: Mã không thuộc danh mục cho phép"]["SoLoi"] == 1
    volume = [c for c in quality["KiemTra"] if "so với quý trước" in c["Ten"]]
    assert volume and volume[0]["KetQua"] == "KHONG_DAT"  # three times the previous quarter
    assert any("không có dữ liệu cùng kỳ năm trước" in c["Ten"] for c in quality["KiemTra"])
    n_blocking_rules = {c["Ten"] for c in quality["KiemTra"] if c["MucDo"] == "CHAN" and c["Ten"].startswith("Hồ sơ")}
    assert len(n_blocking_rules) == 12  # the 11 rules of §5 + duplicate MaHoSo


def test_data_docs_are_written_and_show_the_failures(world):
    index = data_docs_index(world["home"], AGENCY, WINDOW.key, "manual__2025-04-01")
    assert index.is_file() and "ho_so" in index.read_text(encoding="utf-8")
    pages = list(index.parent.glob("validations/**/*.html"))
    assert len(pages) == 4
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    for failing in ("kieu:MaTTHC", "ma:KenhThucHien", "ngay:NgayTiepNhan", "gia_min:DanhSachLePhi[].Gia", "DonViXuLy"):
        assert failing in text
    summary = summary_page(world["home"], AGENCY, WINDOW.key, "manual__2025-04-01").read_text(encoding="utf-8")
    assert "HM-FEE" in summary and "KHÔNG ĐẠT" in summary and "http" not in summary.replace("https://", "")
    assert json.loads((index.parent / "ket_qua" / "ho_so.json").read_text(encoding="utf-8"))["success"] is False
    stored = quality_results(world["store"], AGENCY, WINDOW.key)
    assert stored["data_docs"] == str(index)


def test_no_personal_data_reaches_the_data_docs(world):
    personal = world["ds"].personal_data()
    text = "".join(p.read_text(encoding="utf-8", errors="ignore")
                   for p in (world["home"] / "data_docs").rglob("*") if p.is_file() and p.suffix in (".html", ".json"))
    leaked = [s for s in re.findall(r'"([^"\\]{2,300})"', text) if s in personal]
    assert not leaked


def _suite_regexes() -> tuple[str, str]:
    """The timestamp regexes of the ho_so suite: a field's, and an array item list's."""
    found = {e["kwargs"]["regex"] for e in load_suite_dicts()["ho_so"]["expectations"]
             if e["type"] == "expect_column_values_to_match_regex" and e["meta"]["quy_tac"] == "bad_timestamp"}
    assert len(found) == 2, found
    listed = next(r for r in found if re.search(r, "20250101000000|20250102000000"))  # array items' texts
    return next(r for r in found if r != listed), listed


def test_timestamp_regex_equals_valid_timestamp():
    ts_regex, ts_list_regex = _suite_regexes()
    pattern, listed = re.compile(ts_regex), re.compile(ts_list_regex)
    day = date(1999, 12, 1)
    while day < date(2401, 3, 2):  # every day of more than 400 years, leap rules included
        s = day.strftime("%Y%m%d")
        assert bool(pattern.search(s + "235959")) == valid_timestamp(s + "235959"), s
        day += timedelta(days=1)
    for text in ("00010101000000", "00000101000000", "99991231235959", "20240229000000", "21000229000000",
                 "20000229000000", "20250101240000", "20250101236000", "20250101235960", "2025010100000",
                 "202501010000000", "20250101000000\n", "２０２５0101000000", "19000229000000", "16000229120000"):
        assert bool(pattern.search(text)) == valid_timestamp(text), text
    assert listed.search("20250101000000|20250102000000")
    assert not listed.search("20250101000000|2025-01-02")


def test_the_rulebook_names_every_rule_of_section_5_with_its_meta():
    suites = load_suite_dicts()
    for suite in suites.values():
        for e in suite["expectations"]:
            assert e["meta"]["muc_do"] in ("CHAN", "CANH_BAO") and e["meta"]["giai_thich"] and e["meta"]["quy_tac"]
    dossier_rules = {e["meta"]["quy_tac"]: e["meta"]["muc_do"] for e in suites["ho_so"]["expectations"]}
    assert set(RULE_TITLES) <= set(dossier_rules)  # every rule code of the independent reading
    assert {r for r in RULE_TITLES if dossier_rules[r] == "CHAN"} == set(RULE_TITLES) - {"due_before_receipt"}
    assert expectations_dir() == Path(__import__("parreport").__file__).parent / "expectations"


def test_an_edited_suite_changes_the_next_run(tmp_path, monkeypatch):
    """The steward's path: copy the suites, change a parameter and a severity, point
    PARREPORT_EXPECTATIONS_DIR at the copy, validate again: the verdicts move."""
    store = new_store(f"sqlite:///{tmp_path}/store.db")
    dossiers = [HAND_MADE["HM-OK-FULL"][0], HAND_MADE["HM-FEE"][0], HAND_MADE["HM-PROC"][0]]
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=dossiers, ratings=[])
    run = dict(agency=AGENCY, window=WINDOW, data_dir=tmp_path, run_id="r", threshold=1.0, write_docs=False)
    before = validate_partition(store, **run)
    assert before["by_rule"] == {"negative_fee": 1, "unknown_procedure": 1}

    copy = tmp_path / "expectations"
    shutil.copytree(expectations_dir(), copy)
    suite = json.loads((copy / "ho_so.json").read_text(encoding="utf-8"))
    for e in suite["expectations"]:
        if e["meta"]["quy_tac"] == "negative_fee":
            e["kwargs"]["min_value"] = -1  # a fee of -0.5 is now allowed
        if e["meta"]["quy_tac"] == "unknown_procedure":
            e["meta"]["muc_do"] = "CANH_BAO"  # reported, no longer blocking
    (copy / "ho_so.json").write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("PARREPORT_EXPECTATIONS_DIR", str(copy))
    after = validate_partition(store, **run)
    assert after["quarantined"] == 0 and after["by_rule"] == {}
    assert any("danh mục" in name for name in after["warnings"])  # still reported, as a warning
    store.dispose()


def test_a_broken_suite_stops_validation_clearly(tmp_path, monkeypatch):
    from parreport.quality.suites import SuiteError

    copy = tmp_path / "expectations"
    shutil.copytree(expectations_dir(), copy)
    suite = json.loads((copy / "danh_gia.json").read_text(encoding="utf-8"))
    del suite["expectations"][0]["meta"]["muc_do"]
    (copy / "danh_gia.json").write_text(json.dumps(suite), encoding="utf-8")
    monkeypatch.setenv("PARREPORT_EXPECTATIONS_DIR", str(copy))
    with pytest.raises(SuiteError, match="muc_do"):
        load_suite_dicts()
    shutil.copy(Path(__import__("parreport").__file__).parent / "expectations" / "danh_gia.json", copy / "danh_gia.json")
    (copy / "don_vi.json").unlink()
    with pytest.raises(SuiteError, match="don_vi.json"):
        load_suite_dicts()


def test_threshold_stops_the_run_and_stores_the_quarantine(tmp_path):
    store = new_store(f"sqlite:///{tmp_path}/store.db")
    good = [r for r, rules in HAND_MADE.values() if not rules]
    bad = [HAND_MADE["HM-PROC"][0], HAND_MADE["HM-FEE"][0]]
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=good * 0 + good + bad, ratings=[])
    n = len(good) + len(bad)
    with pytest.raises(BlockingFailuresExceeded) as err:
        validate_partition(store, agency=AGENCY, window=WINDOW, data_dir=tmp_path, run_id="r", threshold=0.01,
                           write_docs=False)
    msg = str(err.value)
    assert f"2 trong {n} hồ sơ" in msg and "parreport quarantine list" in msg and "--quarter 1" in msg
    assert err.value.quarantined == 2 and err.value.total == n
    assert len(quarantined(store)) == 2  # the steward can list them
    store.dispose()


def test_pipeline_validate_uses_the_configured_threshold(tmp_path, monkeypatch):
    settings = Settings(data_dir=str(tmp_path), store_url=f"sqlite:///{tmp_path}/store.db", blocking_threshold=0.5)
    db.upgrade(settings.store_url)
    store = st.Store(settings.store_url)
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=[HAND_MADE["HM-OK-FULL"][0], HAND_MADE["HM-PROC"][0]],
          ratings=[], run_id="scheduled__2025-03-15")
    store.dispose()
    summary = pipeline.validate(settings, pipeline.Period(AGENCY, WINDOW), "scheduled__2025-03-15")
    assert summary["quarantined"] == 1  # 1/2 = 50 % is not more than 50 %
    assert summary["data_docs"].endswith("data_docs/000.00.20.H57/2025Q1_20241215_20250314/scheduled__2025-03-15/index.html")
    # without a run id (a steward's own check) the evidence goes to a folder of its own
    adhoc = pipeline.validate(settings, pipeline.Period(AGENCY, WINDOW))
    assert "/2025Q1_20241215_20250314/kiem-tra-tay__" in adhoc["data_docs"]


def test_more_than_two_hundred_failures_of_a_pair_expectation_are_all_found():
    """GX 1.x caps the rows of a COMPLETE result of column-pair expectations at 200; the runner
    re-validates halves of the table until every failing record is identified."""
    from parreport.quality.frames import records_frame
    from parreport.quality.gx_runner import run_suites

    good = HAND_MADE["HM-OK-FULL"][0]
    bad = HAND_MADE["HM-K-BEFORE-T"][0]
    records = [dict(good if i % 3 else bad, MaHoSo=f"HS{i}") for i in range(900)]  # 300 bad
    suite = load_suite_dicts()["ho_so"]
    suite = dict(suite, expectations=[e for e in suite["expectations"] if e["meta"]["quy_tac"] == "K_before_T"])
    out = run_suites({"ho_so": records_frame("ho_so", list(enumerate(records)))}, {}, run_name="cap",
                     suites={"ho_so": suite})
    (e,) = out["ho_so"].expectations
    assert e.failing_seqs == list(range(0, 900, 3)) and e.unexpected_count == 300


def test_frames_built_in_chunks_give_the_same_verdicts(tmp_path, monkeypatch, caplog):

    store = new_store(f"sqlite:///{tmp_path}/store.db")
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=[r for r, _ in HAND_MADE.values()] + NOT_OBJECT,
          ratings=RATINGS)
    run = dict(agency=AGENCY, window=WINDOW, data_dir=tmp_path, run_id="r", threshold=1.0, write_docs=False)
    whole = validate_partition(store, **run)
    q_whole = quarantined(store)
    monkeypatch.setattr(chunks, "CHUNK", 4)
    pools = []
    real_pool = chunks._pool
    monkeypatch.setattr(chunks, "_pool", lambda helpers: pools.append(real_pool(helpers)) or pools[-1])
    for helpers in ("0", "1"):  # chunks built in this process, then also in a helper process
        monkeypatch.setenv("PARREPORT_FRAME_WORKERS", helpers)
        caplog.clear()
        chunked = validate_partition(store, **run)
        # no helper failed (a failure is a warning; the info line says how many chunks helpers built)
        assert len(pools) == int(helpers)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "tiến trình phụ" in r.getMessage()]
        assert chunked == whole
        assert {s: r["violations"] for s, r in quarantined(store).items()} == \
            {s: r["violations"] for s, r in q_whole.items()}
    store.dispose()


def test_a_helper_process_that_fails_leaves_its_chunk_to_the_task(tmp_path, monkeypatch, caplog):
    from concurrent.futures import ProcessPoolExecutor

    from parreport.quality.fast_frames import chunk_from_texts
    from parreport.quality.frames import frame_of

    rows = [(i, json.dumps(r)) for i, (r, _) in enumerate(HAND_MADE.values())]
    parts = [rows[i:i + 3] for i in range(0, len(rows), 3)]
    expected = frame_of([chunk_from_texts("ho_so", p) for p in parts])
    broken = ProcessPoolExecutor(max_workers=1)
    broken.shutdown()  # takes no work
    monkeypatch.setattr(chunks, "_pool", lambda helpers: broken)
    with caplog.at_level("WARNING", logger="parreport.quality.chunks"):
        got = frame_of(chunks.build_chunks("ho_so", parts, helpers=1))
    pd.testing.assert_frame_equal(got, expected)
    assert "không dùng được tiến trình phụ" in caplog.text
    assert len(parts) > 3


def test_a_helper_process_killed_leaves_its_chunks_to_the_task(tmp_path, monkeypatch, caplog):
    from parreport.quality.fast_frames import chunk_from_texts
    from parreport.quality.frames import frame_of

    rows = [(i, json.dumps(r)) for i, (r, _) in enumerate(HAND_MADE.values())]
    parts = [rows[i:i + 3] for i in range(0, len(rows), 3)]
    expected = frame_of([chunk_from_texts("ho_so", p) for p in parts])
    started = []

    def killed(helpers):
        pool = chunks._Helpers(helpers)
        for proc in pool._every:
            proc.kill()
            proc.wait()
        started.append(pool)
        return pool

    monkeypatch.setattr(chunks, "_pool", killed)
    with caplog.at_level("WARNING", logger="parreport.quality.chunks"):
        got = frame_of(chunks.build_chunks("ho_so", parts, helpers=1))
    pd.testing.assert_frame_equal(got, expected)
    assert len(started) == 1 and "không dùng được tiến trình phụ" in caplog.text


def test_a_helper_process_builds_the_same_chunk_without_the_main_module():
    from parreport.quality.fast_frames import chunk_from_texts
    from parreport.quality.frames import frame_of

    rows = [(i, json.dumps(r)) for i, (r, _) in enumerate(HAND_MADE.values())]
    pool = chunks._Helpers(1)
    try:
        got = pool.submit(chunk_from_texts, "ho_so", rows).result(timeout=120)
        pid = pool._every[0].pid
        assert pool.submit(os.getpid).result(timeout=60) == pid  # built in the helper, not here
        main = pool.submit(eval, "__import__('sys').modules['__main__'].__spec__.name").result(timeout=60)
        assert main == "parreport.quality.frame_helper"  # not this process's main module, imported again
    finally:
        pool.shutdown()
    assert pool._every[0].returncode == 0  # its input ended: it exited by itself
    pd.testing.assert_frame_equal(frame_of([got]), frame_of([chunk_from_texts("ho_so", rows)]))


def test_figures_read_only_a_validated_partition_and_leave_out_what_it_quarantined(tmp_path):
    settings = Settings(data_dir=str(tmp_path), store_url=f"sqlite:///{tmp_path}/store.db", blocking_threshold=0.5)
    db.upgrade(settings.store_url)
    store = st.Store(settings.store_url)
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=[HAND_MADE["HM-OK-FULL"][0], HAND_MADE["HM-PROC"][0]],
          ratings=[], run_id="r")
    period = pipeline.Period(AGENCY, WINDOW)
    with pytest.raises(RuntimeError, match="chưa được kiểm tra"):
        pipeline.compute(settings, period, "r")
    pipeline.validate(settings, period, "r")
    assert {r["ma_ho_so"] for r in store.rows(st.dossiers, AGENCY, WINDOW.key, st.accepted(st.dossiers))} == \
        {HAND_MADE["HM-OK-FULL"][0]["MaHoSo"]}
    figures = pipeline.compute(settings, period, "r")
    assert figures["TONG"]["TiepNhan"]["Tong"] == 1
    store.dispose()
