"""The Great Expectations suites of INDICATORS.md §5, read from ``parreport/expectations/``.

The JSON files there are the rulebook (``expectations/`` at the repository root is the same
folder): one suite per record kind (``ho_so``, ``danh_gia``, ``thu_tuc``, ``don_vi``), each
expectation with, in ``meta``:

* ``muc_do``: ``CHAN`` (blocking: the record is quarantined — for a rating, it leaves
  HL_HAI_LONG) or ``CANH_BAO`` (warning: reported, nothing is removed);
* ``quy_tac``: the rule code (see :mod:`.rules`);
* ``truong``: the field it is about (``""`` = the record / the table);
* ``giai_thich``: what it means, in Vietnamese, for a data steward (also in ``notes``, which
  Data Docs show).

They are package data: a wheel or an image carries them, and every run reads them afresh, so
editing a suite changes the next run. ``PARREPORT_EXPECTATIONS_DIR`` points a run at another
folder. Runtime values (the catalogue's codes, the agency's units, the volume bounds) are GX
suite parameters (``{"$PARAMETER": name}``) supplied per run.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .rules import rule_title

__all__ = ["SUITE_NAMES", "SUITE_TITLES", "SuiteError", "expectations_dir", "load_suite_dicts", "rule_title"]

SUITE_NAMES = ("ho_so", "danh_gia", "thu_tuc", "don_vi")
SUITE_TITLES = {"ho_so": "Hồ sơ", "danh_gia": "Đánh giá", "thu_tuc": "Thủ tục", "don_vi": "Đơn vị"}
_META = ("muc_do", "quy_tac", "truong", "giai_thich")


class SuiteError(ValueError):
    """A suite file is missing or not a suite the pipeline can run (an operator must look)."""


def expectations_dir() -> Path:
    """``$PARREPORT_EXPECTATIONS_DIR``, else the suites installed with the package."""
    env = os.environ.get("PARREPORT_EXPECTATIONS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "expectations"


def load_suite_dicts(directory: Path | str | None = None) -> dict[str, dict]:
    """The four suites as GX ExpectationSuite dicts, read now from ``directory``."""
    directory = Path(directory) if directory else expectations_dir()
    out = {}
    for name in SUITE_NAMES:
        path = directory / f"{name}.json"
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SuiteError(f"không có bộ kỳ vọng {path} (PARREPORT_EXPECTATIONS_DIR hoặc gói cài đặt thiếu tệp)") \
                from None
        except json.JSONDecodeError as exc:
            raise SuiteError(f"bộ kỳ vọng {path} không phải JSON hợp lệ: {exc}") from None
        for i, e in enumerate(suite.get("expectations") or []):
            meta = e.get("meta") or {}
            missing = [k for k in _META if k not in meta]
            if missing or meta.get("muc_do") not in ("CHAN", "CANH_BAO"):
                raise SuiteError(f"{path}: kỳ vọng thứ {i + 1} ({e.get('type')}) thiếu {', '.join(missing) or 'muc_do'} "
                                 "hợp lệ trong meta (muc_do CHAN/CANH_BAO, quy_tac, truong, giai_thich)")
        out[name] = suite
    return out
