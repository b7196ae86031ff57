"""What each Airflow task runs: settings and connections are read here, inside the task,
and errors that a retry cannot mend fail the task at once (no retry)."""
from __future__ import annotations

import functools
import logging

from . import connections, pipeline
from .config import CONN_INTAKE, load_settings
from .http import ApiError
from .quality.gx_runner import GXRunError
from .quality.validation import BlockingFailuresExceeded
from .resources import measured

log = logging.getLogger(__name__)


def _no_retry(fn):
    """A 4xx from either API, a broken identity, a version conflict, blocking failures above the
    threshold or a broken suite will not mend by itself: fail without retrying, with the reason
    in Vietnamese (the steward's corrections, then a Clear of the task, mend the last two)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        label = fn.__name__ + (f".{args[1]}" if fn.__name__ == "extract" and len(args) > 1 else "")
        try:
            with measured(label):
                return fn(*args, **kwargs)
        except ApiError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                raise AirflowFailException(str(exc)) from exc
            raise
        except (pipeline.IdentityError, pipeline.SubmissionConflict, BlockingFailuresExceeded, GXRunError,
                ValueError) as exc:
            raise AirflowFailException(str(exc)) from exc

    return wrapper


@_no_retry
def list_agencies(params: dict) -> list[str]:
    """The agencies this run reports: the ``agency`` param, else every configured agency."""
    agency = (params.get("agency") or "").strip()
    agencies = [agency] if agency else list(load_settings().agencies)
    log.info("đơn vị báo cáo của lần chạy: %s", ", ".join(agencies))
    return agencies


@_no_retry
def resolve_period(params: dict, run_type: str | None, data_interval_end) -> dict:
    settings = load_settings()
    period = pipeline.resolve_period(
        settings, year=params.get("year"), quarter=params.get("quarter"), agency=params.get("agency"),
        interval_end=data_interval_end if run_type in ("scheduled", "backfill") else None)
    log.info("kỳ báo cáo: %s, đơn vị %s", period.window.label, period.agency)
    return period.as_dict()


@_no_retry
def extract(period: dict, dataset: str, run_id: str) -> dict:
    # An IncompleteExtract (fewer records than tong_so) is retried: the listing may have changed
    # while it was paged, and a retry reads it again.
    return pipeline.extract(load_settings(), connections.portal_endpoint(), pipeline.Period.from_dict(period),
                            run_id, dataset)


@_no_retry
def load(period: dict, extracts: dict, run_id: str) -> dict:
    return pipeline.load(load_settings(), pipeline.Period.from_dict(period), extracts, run_id)


@_no_retry
def validate(period: dict) -> dict:
    return pipeline.validate(load_settings(), pipeline.Period.from_dict(period))


@_no_retry
def compute(period: dict, run_id: str) -> dict:
    return pipeline.compute(load_settings(), pipeline.Period.from_dict(period), run_id)


@_no_retry
def build_report(period: dict, run_id: str) -> dict:
    return pipeline.build_report(load_settings(), pipeline.Period.from_dict(period), run_id)


@_no_retry
def submit(period: dict, run_id: str) -> dict:
    agency = period["agency"]
    pem, kid = connections.signing_key(agency)
    result = pipeline.submit(load_settings(), connections.intake_endpoint(agency), pem, kid,
                             pipeline.Period.from_dict(period), run_id)
    result["intake_conn_id"] = connections.resolve_conn_id(CONN_INTAKE, agency)
    log.info("báo cáo: %s; biên nhận: %s (%s)", result["report_path"], result["receipt_path"], result["MaTiepNhan"])
    return result


@_no_retry
def record_receipt(period: dict, receipt: dict | None) -> dict | None:
    return pipeline.record_receipt(load_settings(), pipeline.Period.from_dict(period), receipt)
