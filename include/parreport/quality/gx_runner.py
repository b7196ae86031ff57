"""Running the suites of ``expectations/`` through the Great Expectations 1.x API.

One ephemeral GX context per validation run: a pandas data source with one dataframe asset per
record kind, the suites, and one ValidationDefinition per suite (two for a large, wide frame:
:func:`_parts`), run on the kind's frame narrowed to the columns its suite names. GX's result format is BASIC (counts and a sample of
failing values) with ``return_unexpected_index_query``: the frame's index is the staged rows'
``seq``, so GX's index query lists every failing record (no cap, no dict per row). The
validation results (JSON) and one Data Docs site, built once after the last suite, go to the
run's own directory.

Where GX's time goes (profiled with py-spy and cProfile): at a department's size almost all of
it is GX's own planning and bookkeeping per expectation (157 expectations), whatever the rows;
at 250,000 dossiers, pandas copying the narrowed frame several times for every expectation on
a column that has nulls. Cut here without changing GX's files or a verdict: the modules GX
imports only for expectations the suites do not use are loaded lazily (:func:`import_gx`);
each expectation builds its configuration once per validation
(:func:`memoised_expectation_configuration`, GX 1.24.1 only); text columns reach GX in dtypes
cheap to copy (:func:`_for_gx`); a large, wide frame is validated in two parts, merged back
(:func:`_parts`).
"""
from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .frames import timestamp_fields
from .suites import load_suite_dicts

log = logging.getLogger(__name__)

__all__ = ["ExpectationOutcome", "SuiteOutcome", "run_suites", "GXRunError", "missing_parameters", "import_gx",
           "memoised_expectation_configuration"]


class GXRunError(RuntimeError):
    """An expectation could not be evaluated (a broken suite, not bad data)."""


@dataclass
class ExpectationOutcome:
    suite: str
    type: str
    column: str | None
    muc_do: str
    quy_tac: str
    truong: str
    giai_thich: str
    success: bool | None  # None = not run (skipped)
    unexpected_count: int = 0
    failing_seqs: list[int] = field(default_factory=list)
    observed: Any = None
    skipped: str | None = None  # why it was not run (e.g. "không có dữ liệu quý trước")

    def as_dict(self) -> dict:
        return {"bo": self.suite, "ky_vong": self.type, "cot": self.column, "muc_do": self.muc_do,
                "quy_tac": self.quy_tac, "truong": self.truong, "giai_thich": self.giai_thich,
                "dat": self.success, "so_loi": self.unexpected_count, "gia_tri_quan_sat": _plain(self.observed),
                "bo_qua": self.skipped}


@dataclass
class SuiteOutcome:
    name: str
    element_count: int
    expectations: list[ExpectationOutcome]


def _plain(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _parameters_of(obj: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(obj, dict):
        if set(obj) == {"$PARAMETER"}:
            found.add(obj["$PARAMETER"])
        else:
            for v in obj.values():
                found |= _parameters_of(v)
    elif isinstance(obj, list):
        for v in obj:
            found |= _parameters_of(v)
    return found


def missing_parameters(expectation: dict, parameters: dict) -> set[str]:
    return {p for p in _parameters_of(expectation.get("kwargs", {})) if parameters.get(p) is None}


# What GX's import loads only for expectations and renderers the suites do not use: scipy.stats
# (KL divergence and Kolmogorov-Smirnov expectations) and altair (their charts) are imported at
# module level by those expectations' modules, and are about 40 % of ``import great_expectations``.
# They are imported lazily (importlib.util.LazyLoader): the module is made at import, its code
# runs at the first use of one of its attributes — never, with the suites of expectations/.
DEFERRED_IMPORTS = ("scipy.stats", "altair")


class _DeferredImports(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in DEFERRED_IMPORTS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return None  # not installed, or not a loader LazyLoader can defer: imported as usual
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def import_gx():
    """``great_expectations``, imported (once per process) without running the code of
    :data:`DEFERRED_IMPORTS` until something uses it. GX's own code is not changed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GX narrates its own start-up at INFO (hundreds of lines per run); the task log is for what
    # the pipeline did: GX's warnings and errors still reach it.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    finder = _DeferredImports()
    sys.meta_path.insert(0, finder)
    try:
        import great_expectations
    finally:
        sys.meta_path.remove(finder)
    return great_expectations


# The GX version :func:`memoised_expectation_configuration` was read against (constraints.txt).
MEMO_GX_VERSION = "1.24.1"


@contextmanager
def memoised_expectation_configuration():
    """While a suite is validated, each ``Expectation`` instance builds its ``configuration`` once.

    In GX 1.24 ``Expectation.configuration`` is a property that rebuilds an
    ExpectationConfiguration from a pydantic v1 ``.dict()`` (and a camel-to-snake of the class
    name) on every read, and ``Validator.graph_validate`` reads it about 55 times per expectation
    (once per domain and success key, once per metric, through expectations it builds anew from
    that configuration) — a quarter of GX's run at a department's size. Within a
    ``graph_validate`` call (and only there: the suite's own expectations are read, and their
    configurations changed in place by GX, before it) the first configuration an instance built
    is returned again; nothing in ``graph_validate`` changes a configuration it reads, and the
    instances it builds (and the memo) are dropped when it returns. Only for the GX version the
    code was read against (:data:`MEMO_GX_VERSION`); any other version, or
    ``PARREPORT_GX_PLAIN=1``, runs plain GX. Yields whether the memo is in force.
    ``tests/quality/test_gx_runner.py`` checks outcomes, failing rows and the validation result
    JSON are the same with and without it."""
    gx = import_gx()
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.validator.validator import Validator

    plain_config = Expectation.__dict__.get("configuration")
    plain_graph = Validator.__dict__.get("graph_validate")
    if (getattr(gx, "__version__", None) != MEMO_GX_VERSION or os.environ.get("PARREPORT_GX_PLAIN") == "1"
            or not isinstance(plain_config, property) or not callable(plain_graph)):
        yield False
        return
    memo: dict[int, tuple[Any, Any]] | None = None

    def configuration(self):
        if memo is None:
            return plain_config.fget(self)
        hit = memo.get(id(self))
        if hit is None:  # the instance is kept with its configuration: its id is not reused meanwhile
            hit = memo[id(self)] = (self, plain_config.fget(self))
        return hit[1]

    def graph_validate(self, *args, **kwargs):
        nonlocal memo
        outer = memo
        memo = {} if outer is None else outer
        try:
            return plain_graph(self, *args, **kwargs)
        finally:
            memo = outer

    Expectation.configuration = property(configuration, doc=plain_config.__doc__)
    Validator.graph_validate = graph_validate
    try:
        yield True
    finally:
        Expectation.configuration = plain_config
        Validator.graph_validate = plain_graph


def _context(docs_dir: Path | None):
    gx = import_gx()

    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    except Exception:  # pragma: no cover - cosmetic only
        pass
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        ctx.add_data_docs_site(site_name="parreport", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return gx, ctx


def run_suites(frames: dict[str, pd.DataFrame], parameters: dict[str, Any], *, run_name: str,
               docs_dir: Path | None = None, suites: dict[str, dict] | None = None,
               skip_reasons: dict[str, str] | None = None, timings: dict | None = None) -> dict[str, SuiteOutcome]:
    """Validate each frame (keyed by suite name: ho_so, danh_gia, thu_tuc, don_vi) with its
    suite; a frame's index is the staged rows' ``seq`` (see frames.records_frame). Expectations
    needing a parameter that is absent (None) are not run and come back with ``skipped`` set
    (``skip_reasons[parameter]`` or "không có dữ liệu"). Data Docs are built once, after the
    last suite, for the whole run.

    GX keeps the context it made last as the process's current one (``gx.get_context``), and with
    it every batch's frame and every metric computed on it: at 250,000 dossiers, 1.5 million
    objects, 400 MiB that the next task of the process (``airflow dags test`` runs them all in
    one) would start from. It is let go when the run ends (``set_context(None)``, then a collection)."""
    try:
        return _run_suites(frames, parameters, run_name=run_name, docs_dir=docs_dir, suites=suites,
                           skip_reasons=skip_reasons, timings=timings)
    finally:
        if "great_expectations" in sys.modules:
            from great_expectations.data_context import set_context

            set_context(None)
            gc.collect()  # the context's objects refer to each other: only the collector frees them


def _run_suites(frames: dict[str, pd.DataFrame], parameters: dict[str, Any], *, run_name: str,
                docs_dir: Path | None, suites: dict[str, dict] | None, skip_reasons: dict[str, str] | None,
                timings: dict | None) -> dict[str, SuiteOutcome]:
    suites = suites or load_suite_dicts()
    skip_reasons = skip_reasons or {}
    gx, ctx = _context(docs_dir)
    from great_expectations.core.run_identifier import RunIdentifier

    source = ctx.data_sources.add_pandas("kho_du_lieu")
    outcomes: dict[str, SuiteOutcome] = {}
    run_id = RunIdentifier(run_name=run_name)
    for name, frame in frames.items():
        spec = suites[name]
        kept, skipped = [], []
        for e in spec["expectations"]:
            missing = missing_parameters(e, parameters)
            if missing:
                reason = "; ".join(sorted({skip_reasons.get(m, "không có dữ liệu") for m in missing}))
                skipped.append(_outcome(name, e, None, skipped=reason))
            else:
                kept.append(e)
        results, evidence, position = [], None, {id(e): i for i, e in enumerate(kept)}
        for part, exps in _parts(name, frame, kept):
            suite = gx.ExpectationSuite(name=part, expectations=[dict(e) for e in exps],
                                        meta=dict(spec.get("meta", {})))
            if len(suite.expectations) != len(exps):
                raise GXRunError(f"bộ kỳ vọng {name}: {len(exps) - len(suite.expectations)} kỳ vọng không hợp lệ")
            suite = ctx.suites.add(suite)
            batch_def = source.add_dataframe_asset(part).add_batch_definition_whole_dataframe(f"{part}_toan_bo")
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"kiem_tra_{part}", data=batch_def, suite=suite))
            with memoised_expectation_configuration():
                vr = vd.run(batch_parameters={"dataframe": _narrow(frame, exps)}, expectation_parameters=parameters,
                            result_format=_RESULT, run_id=run_id)
            order = _gx_order(exps)  # GX answers in this order: map each result back to its expectation
            results += [(position[id(exps[order[k]])], r) for k, r in enumerate(vr.results)]
            evidence = evidence or vr.to_json_dict()
        place = {i: k for k, i in enumerate(_gx_order(kept))}  # as GX orders the whole suite
        results.sort(key=lambda pair: place[pair[0]])
        if docs_dir is not None:
            if len(results) != len(evidence["results"]):  # validated in parts: one result, as GX gives one
                evidence["results"] = [r.to_json_dict() for _, r in results]
                ok = sum(1 for _, r in results if r.success)
                evidence["success"] = ok == len(results)
                evidence["statistics"] = {"evaluated_expectations": len(results), "successful_expectations": ok,
                                          "unsuccessful_expectations": len(results) - ok,
                                          "success_percent": 100 * ok / len(results) if results else None}
            (docs_dir / "ket_qua").mkdir(parents=True, exist_ok=True)
            (docs_dir / "ket_qua" / f"{name}.json").write_text(
                json.dumps(evidence, ensure_ascii=False, default=str), encoding="utf-8")
        items: list[ExpectationOutcome] = []
        for _, r in results:
            cfg = r.expectation_config
            exc = r.exception_info or {}
            if exc.get("raised_exception"):
                raise GXRunError(f"kỳ vọng {cfg.type} ({cfg.kwargs.get('column')}) của bộ {name} lỗi khi chạy: "
                                 f"{exc.get('exception_message')}")
            items.append(_outcome(name, {"type": cfg.type, "kwargs": cfg.kwargs, "meta": cfg.meta or {}}, r))
        outcomes[name] = SuiteOutcome(name, len(frame), items + skipped)
    if docs_dir is not None:
        started = time.perf_counter()
        ctx.build_data_docs(site_names=["parreport"])
        if timings is not None:
            timings["data_docs"] = time.perf_counter() - started
    return outcomes


# When a kind's frame is validated in two parts (see _parts): at least this many rows and
# columns, and the second part's name (its own validation result in Data Docs).
SPLIT_MIN_ROWS, SPLIT_MIN_COLUMNS = 50_000, 40
SPARSE_PART = "{name}_cot_co_o_trong"


def _parts(name: str, frame: pd.DataFrame, kept: list[dict]) -> list[tuple[str, list[dict]]]:
    """The suite's expectations as GX is given them: one part, or — for a large, wide frame —
    two: the expectations on columns without nulls (suite ``name``), and those on columns with
    nulls and the column pairs and lists GX first rids of missing values (``name_cot_co_o_trong``,
    on a frame of only their columns). GX copies its whole batch frame several times for each
    expectation of the second kind (once to drop the nulls, then for every metric), and only
    once per expectation, a few rows, for the first: on a frame of only its own columns each
    copy is a fraction of the wide one. Measured (GX's CPU time, one process, same frames): 5.4 →
    4.7 s at 100,000 dossiers, 6.9 → 6.2 s at 250,000; no gain at 6,000 (the second part's fixed cost), hence
    :data:`SPLIT_MIN_ROWS`. Verdicts do not depend on the parts; results are merged back in the
    order GX gives for the whole suite (:func:`_gx_order`)."""
    if len(frame) < SPLIT_MIN_ROWS or len(frame.columns) < SPLIT_MIN_COLUMNS:
        return [(name, kept)]
    with_nulls = set(frame.columns[frame.isna().any().to_numpy()])
    sparse = [e for e in kept if set(_columns_of(e)) & with_nulls
              or (e.get("kwargs") or {}).get("ignore_row_if") not in (None, "never", "neither")]
    dense = [e for e in kept if not any(e is x for x in sparse)]
    if not sparse or not dense:
        return [(name, kept)]
    return [(name, dense), (SPARSE_PART.format(name=name), sparse)]


def _gx_order(expectations: list[dict]) -> list[int]:
    """The order in which GX 1.x validates (and answers) a suite's expectations: grouped by
    ``column``, groups in order of first appearance, those without one as one group
    (``Validator.process_expectations_for_validation``). Indices into ``expectations``."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(expectations):
        column = (e.get("kwargs") or {}).get("column")
        groups.setdefault(column if isinstance(column, str) else "\0none", []).append(i)
    return [i for group in groups.values() for i in group]


# GX's own result format, chosen for what the pipeline needs: BASIC (counts and a sample of the
# failing values, which Data Docs show) and, through ``unexpected_index_query``, the index of
# every failing row — the frame's index is ``seq``. (COMPLETE would also build a dict per failing
# row and cap column-pair expectations at 200 rows.)
_RESULT = {"result_format": "BASIC", "partial_unexpected_count": 20, "return_unexpected_index_query": True}
_INDEX_QUERY = re.compile(r"^df\.filter\(items=\[([0-9, ]*)\], axis=0\)$")


def _columns_of(expectation: dict) -> list[str]:
    kw = expectation.get("kwargs") or {}
    return [c for c in (kw.get("column"), kw.get("column_A"), kw.get("column_B"), *(kw.get("column_list") or []))
            if isinstance(c, str)]


def _narrow(frame: pd.DataFrame, expectations: list[dict]) -> pd.DataFrame:
    """Only the columns the suite names (and ``ref``): GX copies its domain's rows for many
    metrics, and every column not judged would be copied with them. A column the suite names
    that the frame lacks is left for GX to report. Text columns are given in the dtype cheapest
    to copy that keeps GX's reading (:func:`_for_gx`)."""
    wanted = {c for e in expectations for c in _columns_of(e)} | {"ref"}
    ordered = {c for e in expectations if e.get("type") in _ORDER_COMPARISONS for c in _columns_of(e)}
    kept = [c for c in frame.columns if c in wanted]
    return pd.DataFrame({c: _for_gx(c, frame[c], c in ordered) for c in kept}, index=frame.index)


# Expectations that compare a column's values in order (the others test equality, membership,
# a pattern or uniqueness).
_ORDER_COMPARISONS = ("expect_column_pair_values_a_to_be_greater_than_b", "expect_column_values_to_be_between")
# Timestamp columns by name prefix (frames.timestamp_columns): the width of their texts.
_INSTANT_WIDTHS = (("thoi_diem", 14), ("ngay_thang:", 8))


def _for_gx(column: str, values: pd.Series, compared_in_order: bool) -> pd.Series:
    """A text column as GX gets it. GX copies the whole batch frame several times for every
    expectation on a column with nulls, and pandas' text columns (``str``) are the dearest to
    copy (each copy re-checks every value is text). A timestamp column GX compares in order
    (``thoi_diem:*``, ``thoi_diem_ket_thuc``: real ``yyyyMMddHHmmss`` instants, else null;
    ``ngay_thang:*``: their ``yyyyMMdd`` dates) is given as the instants it names (datetime64,
    null = NaT, to the second): the same order as the fixed-width texts, and Data Docs show
    them as ``2025-01-05T08:30:00``. Any other text column that is not compared in order
    (``ref``) is given as a categorical, like the frame's other text columns: equal values stay
    equal, nulls stay null. Everything else is given as it is."""
    if not pd.api.types.is_string_dtype(values.dtype) or isinstance(values.dtype, pd.CategoricalDtype):
        return values
    if compared_in_order:
        width = next((w for prefix, w in _INSTANT_WIDTHS if column.startswith(prefix)), None)
        if width is None:
            return values
        instants = _instants(values, width)
        if instants is None:
            raise GXRunError(f"cột {column} có giá trị không phải thời điểm yyyyMMddHHmmss / ngày yyyyMMdd hợp lệ "
                             f"(lỗi khi dựng bảng dữ liệu, không phải lỗi dữ liệu)")
        return instants
    codes, categories = pd.factorize(values)  # in order of appearance: nothing sorts 250,000 refs
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=values.index, name=values.name)


def _instants(values: pd.Series, width: int) -> pd.Series | None:
    """Fixed-width ``yyyyMMddHHmmss`` (``width`` 14) or ``yyyyMMdd`` (8, read as its midnight)
    texts (null = NaT) as datetime64[s], from the digits :func:`.frames.timestamp_fields` reads
    with numpy: pandas' ``to_datetime`` takes five times as long for the first format (a quarter
    of GX's time at 250,000 dossiers) and reads some texts that name no instant (a 60th second,
    13 digits). None when any text does not name a real instant."""
    present = values.notna().to_numpy()
    texts = values.to_numpy()[present].tolist()
    if width == 8:
        texts = [t + "000000" if type(t) is str else None for t in texts]
    ok, fields = timestamp_fields(texts)
    if not ok.all():
        return None
    year, month, day, hour, minute, second = fields.astype(np.int64).T
    month_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1).astype("timedelta64[M]")
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    out[present] = ((month_start.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")).astype("datetime64[s]")
                    + (hour * 3600 + minute * 60 + second).astype("timedelta64[s]"))
    return pd.Series(out, index=values.index, name=values.name)


def _failing_index(res: dict) -> list[int] | None:
    query = res.get("unexpected_index_query")
    if query is None:
        return None
    m = _INDEX_QUERY.match(query)
    if m is None:
        raise GXRunError(f"GX trả về danh sách dòng vi phạm không đọc được: {query[:200]!r}")
    return sorted({int(x) for x in m.group(1).split(",") if x.strip()})


def _outcome(suite: str, e: dict, r: Any, skipped: str | None = None) -> ExpectationOutcome:
    meta = e.get("meta") or {}
    kwargs = e.get("kwargs") or {}
    column = kwargs.get("column") or (f"{kwargs.get('column_A')} ≥ {kwargs.get('column_B')}"
                                      if "column_A" in kwargs else None)
    out = ExpectationOutcome(suite=suite, type=e["type"], column=column, muc_do=meta.get("muc_do", "CHAN"),
                             quy_tac=meta.get("quy_tac", e["type"]), truong=meta.get("truong", ""),
                             giai_thich=meta.get("giai_thich", ""), success=None, skipped=skipped)
    if r is None:
        return out
    res = r.result or {}
    out.success = bool(r.success)
    seqs = _failing_index(res)
    if seqs is not None:
        out.failing_seqs = seqs
        out.unexpected_count = max(len(seqs), int(res.get("unexpected_count") or 0))
    elif not r.success:
        out.unexpected_count = 1  # a table-level expectation
    out.observed = res.get("observed_value")
    return out
