"""How the suites are run through GX (quality/gx_runner.py): what GX is given of an expectation,
what comes back with each result, and what GX's import leaves unloaded."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

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
