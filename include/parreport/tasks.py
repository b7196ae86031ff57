"""What each Airflow task runs: settings and connections are read here, inside the task,
and errors that a retry cannot mend fail the task at once (no retry).

Importing this module stays light (every task process does it): what only one task needs —
pandas and Great Expectations (validate), matplotlib, reportlab and openpyxl (build_report) —
is imported by that task alone. The project's errors are therefore named here by module and
class (:data:`_ACTIONS`) and looked up only in modules already imported: an error of a module
that was never imported cannot have been raised.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import inspect
import logging
import sys

from . import connections, pipeline
from .config import CONN_INTAKE, ConfigError, load_settings
from .http import TRANSIENT_STATUS, ApiError
from .resources import measured

log = logging.getLogger(__name__)


class TaskFailed(RuntimeError):
    """A failure the project did not foresee, told in Vietnamese (the cause is chained)."""


_ACTIONS: tuple[tuple[str, str], ...] = (
    ("parreport.config:ConfigError", "sửa cấu hình (biến PARREPORT_*, tệp PARREPORT_CONFIG hoặc kết nối Airflow, xem README) rồi "
                  "xóa (Clear) nhiệm vụ để chạy lại."),
    ("parreport.pipeline:IdentityError", "không có gì được gửi. Báo người bảo trì kèm nhật ký nhiệm vụ (số liệu tính ra mâu "
                             "thuẫn với chính nó); sau khi sửa, xóa (Clear) bước tính số liệu."),
    ("parreport.pipeline:SubmissionConflict", "không gửi gì thêm. Hỏi Sở Nội vụ ai đã gửi các phiên bản đó; người bảo trì ghi "
                                  "nhận chúng vào kho rồi mới xóa (Clear) bước gửi báo cáo."),
    ("parreport.quality.gx_runner:GXRunError", "bộ kỳ vọng trong expectations/ bị hỏng hoặc GX lỗi: báo người bảo trì; sau khi sửa, xóa (Clear) "
                 "bước kiểm tra dữ liệu."),
    ("parreport.quality.validation:BlockingFailuresExceeded", "cán bộ dữ liệu xem và sửa các hồ sơ bị cách ly (parreport quarantine list, "
                               "parreport corrections add), rồi xóa (Clear) bước kiểm tra dữ liệu."),
    ("parreport.extract:IncompleteExtract", "Airflow sẽ tự chạy lại nhiệm vụ theo số lần thử lại (retries); nếu vẫn thiếu, báo đơn vị "
                        "vận hành cổng DVC."),
)
_UNFORESEEN = ("Airflow sẽ tự chạy lại nhiệm vụ theo số lần thử lại (retries); nếu vẫn lỗi, báo người bảo trì kèm "
               "nhật ký nhiệm vụ.")


# The project's errors that a retry cannot mend: the task fails at once (see _no_retry).
_FAIL_NOW = ("parreport.pipeline:IdentityError", "parreport.pipeline:SubmissionConflict",
             "parreport.quality.validation:BlockingFailuresExceeded", "parreport.quality.gx_runner:GXRunError",
             "parreport.config:ConfigError")


def _loaded(ref: str) -> type[BaseException] | None:
    """The class ``module:Name`` if its module is imported, else None (nothing is imported here)."""
    module, _, name = ref.partition(":")
    return getattr(sys.modules.get(module), name, None)


def _is(exc: BaseException, refs) -> bool:
    return any(cls is not None and isinstance(exc, cls) for cls in map(_loaded, refs))


def explain(exc: BaseException) -> str:
    """The error's message with what to do (Vietnamese), unless it already says it."""
    text = str(exc).strip() or type(exc).__name__
    if "Việc cần làm" in text:
        return text
    action = next((a for ref, a in _ACTIONS if _is(exc, (ref,))), None)
    if action is None:
        first = text.splitlines()[0][:300]
        return f"Lỗi ngoài dự kiến ({type(exc).__name__}: {first}). Việc cần làm: {_UNFORESEEN}"
    return f"{text.rstrip('.')}. Việc cần làm: {action}"


_EXIT_REGISTERED = False


def _exit_without_collecting() -> None:
    """Once a task has run in this process, its exit skips the garbage collector's passes over
    the heap (``gc.freeze`` in an exit handler, after the task and before the interpreter's own
    teardown): with pandas, GX and matplotlib loaded those passes took 1.5–2 s of an
    ``airflow dags test`` run's exit (one process runs every task there; a worker's task process
    ends with ``os._exit`` and never runs them). Exit handlers registered earlier — logging's,
    Airflow's — still run after it; the operating system reclaims the memory."""
    global _EXIT_REGISTERED
    if not _EXIT_REGISTERED:
        atexit.register(gc.freeze)
        _EXIT_REGISTERED = True


@contextlib.contextmanager
def _heap_frozen():
    """While a task body runs, the objects alive before it (Airflow, the imported modules, under
    ``airflow dags test`` what earlier tasks left) are out of the cyclic collector's generations
    (``gc.freeze``), so the full collections the body's own allocations trigger — GX builds
    millions of small objects — walk only what the body made; they are given back (``gc.unfreeze``)
    when it ends, garbage among them included, so nothing is kept that would have been freed."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        _trim_heap()


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere
    nothing): what a task freed — a window's texts, the validation's frames — otherwise stays in
    the process's RSS, where ``airflow dags test`` runs the next task (measured after a
    250,000-dossier validation: 638 → 353 MiB, in 10 ms)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _no_retry(fn):
    """Every failure of a task, told in Vietnamese with what to do (:func:`explain`); the
    project's own errors that a retry cannot mend fail the task at once: a 4xx from either API
    (408 and 429 excepted), a broken identity, a version conflict, blocking failures above the
    threshold, a broken suite, a configuration or connection that is wrong or missing (the
    steward's corrections, or the operator's fix, then a Clear of the task mend them).
    Anything else — a server that stayed unavailable, a body cut short, an expired cursor, a
    secrets backend that did not answer, a bug — follows the task's retries."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        label = fn.__name__ + (f".{args[1]}" if fn.__name__ == "extract" and len(args) > 1 else "")
        _exit_without_collecting()
        try:
            with measured(label), _heap_frozen():
                return fn(*args, **kwargs)
        except ApiError as exc:
            if 400 <= exc.status < 500 and exc.status not in TRANSIENT_STATUS:
                raise AirflowFailException(explain(exc)) from exc
            raise
        except Exception as exc:
            if _is(exc, _FAIL_NOW):
                raise AirflowFailException(explain(exc)) from exc
            if type(exc).__module__.startswith("airflow"):  # Airflow's own control flow (skip, defer, …)
                raise
            message = explain(exc)
            if message == str(exc).strip():
                raise  # already says what happened and what to do
            raise TaskFailed(message) from exc

    return wrapper


def _story(step: str):
    """A failed attempt of ``step`` is written to the run's story (store.run_events) with its
    reason, then raised as before; what a step did when it succeeds is recorded by the step."""

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                from . import story

                try:
                    bound = signature.bind(*args, **kwargs).arguments
                    settings, period = load_settings(), pipeline.Period.from_dict(bound["period"])
                except Exception:  # noqa: BLE001 - no period, no story
                    settings = None
                if settings is not None:
                    story.record_failure(settings, period, bound.get("run_id"), step, exc)
                raise

        return wrapper

    return decorate


@_no_retry
def list_agencies(params: dict) -> list[str]:
    """The agencies this run reports: the ``agency`` param, else every configured agency."""
    agency = (params.get("agency") or "").strip()
    agencies = [agency] if agency else list(load_settings().agencies)
    log.info("đơn vị báo cáo của lần chạy: %s", ", ".join(agencies))
    return agencies


@_no_retry
def resolve_period(params: dict, run_type: str | None, data_interval_end, run_after=None) -> dict:
    settings = load_settings()
    try:
        period = pipeline.resolve_period(
            settings, year=params.get("year"), quarter=params.get("quarter"), agency=params.get("agency"),
            run_type=str(getattr(run_type, "value", run_type) or "") or None, interval_end=data_interval_end,
            run_after=run_after)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Tham số của lần chạy không hợp lệ: {exc}. Việc cần làm: chạy lại DAG (Trigger) với "
                          "'year' (ví dụ 2025) và 'quarter' (1–4), hoặc bỏ trống cả hai.") from exc
    log.info("kỳ báo cáo: %s, đơn vị %s", period.window.label, period.agency)
    return period.as_dict()


@_no_retry
@_story("extract")
def extract(period: dict, dataset: str, run_id: str) -> dict:
    # An IncompleteExtract (fewer records than tong_so) is retried: the listing may have changed
    # while it was paged, and a retry reads it again.
    return pipeline.extract(load_settings(), connections.portal_endpoint(), pipeline.Period.from_dict(period),
                            run_id, dataset)


@_no_retry
@_story("load")
def load(period: dict, extracts: dict, run_id: str) -> dict:
    return pipeline.load(load_settings(), pipeline.Period.from_dict(period), extracts, run_id)


@_no_retry
@_story("validate")
def validate(period: dict, run_id: str | None = None) -> dict:
    return pipeline.validate(load_settings(), pipeline.Period.from_dict(period), run_id)


@_no_retry
@_story("compute")
def compute(period: dict, run_id: str) -> dict:
    return pipeline.compute(load_settings(), pipeline.Period.from_dict(period), run_id)


@_no_retry
@_story("build")
def build_report(period: dict, run_id: str) -> dict:
    return pipeline.build_report(load_settings(), pipeline.Period.from_dict(period), run_id)


@_no_retry
@_story("submit")
def submit(period: dict, run_id: str, accepted_event=None) -> dict:
    """Send the quarter's report (or find it already accepted); ``accepted_event`` is the task's
    outlet event accessor for ``follow_up.REPORT_ACCEPTED``, whose extra names what was accepted."""
    from .follow_up import acceptance_extra

    agency = period["agency"]
    # Every connection is read before anything is signed or sent (connections.py: a look-up that
    # fails stops the task here).
    intake_conn_id = connections.resolve_conn_id(CONN_INTAKE, agency)
    pem, kid = connections.signing_key(agency)
    endpoint = connections.endpoint(intake_conn_id)
    result = pipeline.submit(load_settings(), endpoint, pem, kid, pipeline.Period.from_dict(period), run_id)
    result["intake_conn_id"] = intake_conn_id
    log.info("báo cáo: %s; biên nhận: %s (%s)", result["report_path"], result["receipt_path"], result["MaTiepNhan"])
    if accepted_event is not None:
        accepted_event.extra = acceptance_extra(period, result)
    return result


@_no_retry
def open_receipts() -> list[dict]:
    from .follow_up import open_receipts as find

    return find(load_settings())
