"""Issue 9's faults through the sandbox (real sockets, the sandbox in its own process): a 2xx
whose body is cut short, a cursor that expires, an intake answer cut short after acceptance, a
secrets backend that is down; and which errors fail a task without retry."""
from __future__ import annotations

import json

import httpx
import pytest

from parreport import connections, pipeline, tasks
from parreport.config import ConfigError
from parreport.extract import extract_dataset, read_records
from parreport.http import ApiError, Endpoint, RetriesExhausted
from parreport.intake import IntakeClient, idempotency_key
from parreport.periods import window_for
from parreport.portal import ListingRestartsExhausted, PortalClient
from parreport.quality.dedupe import dedupe
from parreport.sandbox.generator import GeneratorConfig, generate
from parreport.sandbox.runner import run_sandbox

AGENCY = "000.00.20.H57"
SEED, PER_QUARTER = 11, 400
W = window_for(2025, 1)


@pytest.fixture(scope="module")
def ds():
    return generate(GeneratorConfig(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY))


def expected_refs(ds) -> list[str]:
    """MaHoSo of the /ho-so listing in delivery order (stale copies included), from the generator."""
    return [r["MaHoSo"] for r in ds.deliveries(ds.listing(AGENCY, W.start_ts, W.end_ts, True))]


def portal_client(sb, **kw) -> PortalClient:
    cid, secret = sb.portal_client
    kw.setdefault("backoff_max", 0.05)
    return PortalClient(Endpoint(sb.portal_url, cid, secret), timeout=30, **kw)


def sandbox_faults(url: str) -> dict:
    return httpx.get(url + "/_sandbox/faults", timeout=10).json()


# -- a 200 cut short ----------------------------------------------------------------------------
def test_bodies_cut_short_are_retried_and_the_extract_is_whole(ds, tmp_path):
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY,
                     faults="portal.rate_truncate=0.25,portal.truncate=2") as sb:
        with portal_client(sb, page_size=50) as client:
            result = extract_dataset(client, "dossiers", AGENCY, W, tmp_path)
            retries = client.stats["retries"]
        cut = sandbox_faults(sb.portal_url)["truncated"]
    assert 2 in cut and len(cut) >= 3 and retries == len(cut)
    assert result.delivered == result.tong_so == len(expected_refs(ds))
    assert [r["MaHoSo"] for r in read_records(result.raw_dir)] == expected_refs(ds)


def test_a_body_cut_short_every_time_fails_in_vietnamese_after_the_last_attempt(tmp_path):
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY,
                     faults="portal.rate_truncate=1") as sb:
        with portal_client(sb, page_size=50, max_attempts=3) as client:
            with pytest.raises(RetriesExhausted) as err:
                extract_dataset(client, "ratings", AGENCY, W, tmp_path)
    message = str(err.value)
    assert message.startswith("cổng DVC: GET /api/v1/danh-gia (trang 1) không thành công sau 3 lần thử")
    assert "cắt ngang" in message and "Việc cần làm" in message
    # not a "ValueError a retry cannot mend": the task's own retries apply
    assert not isinstance(err.value, (ValueError, ApiError))


# -- an expired cursor --------------------------------------------------------------------------
def test_an_expired_cursor_restarts_the_listing_and_tong_so_is_checked_against_the_completed_one(ds, tmp_path):
    # API call 3 (page 3) answers 503 with Retry-After 2 s; the cursor lives 1 s: the retry of
    # page 3 meets an expired cursor, and the listing is read again from page 1.
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY,
                     faults="portal.cursor_ttl=1,portal.schedule=503@3,retry_after=2") as sb:
        with portal_client(sb, page_size=100) as client:
            result = extract_dataset(client, "dossiers", AGENCY, W, tmp_path)
            assert client.stats["listing_restarts"] == 1
        log = sb.portal_requests()
    refused = [r for r in log if r["status"] == 400]
    assert len(refused) == 1 and "cursor" in refused[0]["query"]
    refs = expected_refs(ds)
    pages = -(-len(refs) // 100)
    assert result.restarts == 1 and result.pages == pages
    assert result.delivered == result.tong_so == len(refs)  # not the aborted reading's 200 on top
    assert len(list((tmp_path / "dossiers").glob("page-*.json"))) == pages
    kept = list(read_records(result.raw_dir))
    assert [r["MaHoSo"] for r in kept] == refs
    # staged once: de-duplication sees the completed listing only
    assert dedupe(kept).duplicates == len(refs) - len(set(refs))


def test_cursors_refused_as_expired_at_chosen_requests_restart_the_listing_each_time(ds, tmp_path):
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY,
                     faults="portal.expire_cursors=2|4") as sb:
        with portal_client(sb, page_size=100) as client:
            result = extract_dataset(client, "dossiers", AGENCY, W, tmp_path)
        faults = sandbox_faults(sb.portal_url)
    assert faults["expired_cursors"] == [2, 4] and result.restarts == 2
    assert [r["MaHoSo"] for r in read_records(result.raw_dir)] == expected_refs(ds)
    assert result.delivered == result.tong_so


def test_a_cursor_that_always_expires_ends_in_a_clear_failure(tmp_path):
    with run_sandbox(seed=SEED, dossiers_per_quarter=PER_QUARTER, agency=AGENCY, faults="portal.cursor_ttl=0") as sb:
        with portal_client(sb, page_size=100, max_restarts=2) as client:
            with pytest.raises(ListingRestartsExhausted) as err:
                extract_dataset(client, "dossiers", AGENCY, W, tmp_path)
        refused = [r for r in sb.portal_requests() if r["status"] == 400]
    assert len(refused) == 3 and err.value.readings == 3
    assert "GET /api/v1/ho-so" in str(err.value) and "15 phút" in str(err.value)


# -- the intake's answer cut short after acceptance -----------------------------------------------
def test_an_acceptance_whose_answer_is_cut_short_is_replayed_not_sent_twice():
    from parreport.report.signing import content_sha256, generate_keypair, sign_body
    from tests.support.reports import minimal_report

    private, public = generate_keypair()
    with run_sandbox(seed=SEED, dossiers_per_quarter=50, agency=AGENCY, public_keys={"k1": public},
                     faults="intake.truncate=1") as sb:
        cid, secret, agency = sb.intake_client
        body = sign_body(minimal_report(agency), private, "k1")
        with IntakeClient(Endpoint(sb.intake_url, cid, secret), backoff_max=0.05) as client:
            result = client.submit(body, idempotency_key(agency, 2025, 1, 1, content_sha256(body)))
        statuses = [r["status"] for r in sb.intake_requests()]
        accepted = sb.accepted()
        assert sandbox_faults(sb.intake_url)["truncated"] == [1]
    assert statuses == [201, 200] and len(accepted) == 1
    assert result.replayed and result.receipt["MaTiepNhan"] == accepted[0]["receipt"]["MaTiepNhan"]


# -- a secrets backend that is down ---------------------------------------------------------------
@pytest.fixture
def secrets_backend(monkeypatch):
    """Configure the sandbox's UnavailableSecretsBackend as Airflow's custom backend."""
    from airflow.sdk.configuration import clear_secrets_backends_cache

    def configure(fail: str | None):
        if fail is None:
            monkeypatch.delenv("AIRFLOW__SECRETS__BACKEND", raising=False)
            monkeypatch.delenv("AIRFLOW__SECRETS__BACKEND_KWARGS", raising=False)
        else:
            monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "parreport.sandbox.secrets.UnavailableSecretsBackend")
            monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps({"fail": fail}))
        clear_secrets_backends_cache()

    yield configure
    monkeypatch.delenv("AIRFLOW__SECRETS__BACKEND", raising=False)
    clear_secrets_backends_cache()


def _env_conn(monkeypatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", **fields}))


AGENCY_CONN = connections.agency_conn_id("snv_report_api", AGENCY)


def test_lookup_falls_back_only_when_the_agency_connection_is_known_absent(monkeypatch, secrets_backend):
    _env_conn(monkeypatch, "snv_report_api", host="127.0.0.1", login="shared", password="s")
    monkeypatch.delenv(f"AIRFLOW_CONN_{AGENCY_CONN.upper()}", raising=False)
    secrets_backend("some_other_conn")  # the custom backend answers, and has no such connection
    assert connections.resolve_conn_id("snv_report_api", AGENCY) == "snv_report_api"
    _env_conn(monkeypatch, AGENCY_CONN, host="127.0.0.1", login="own", password="s")
    assert connections.resolve_conn_id("snv_report_api", AGENCY) == AGENCY_CONN


def test_a_secrets_backend_that_is_down_stops_the_lookup(monkeypatch, secrets_backend):
    _env_conn(monkeypatch, "snv_report_api", host="127.0.0.1", login="shared", password="s")
    monkeypatch.delenv(f"AIRFLOW_CONN_{AGENCY_CONN.upper()}", raising=False)
    secrets_backend("snv_report_api__*,report_signing_key__*")
    # Airflow itself answers "not found" (it skips a backend that raises) ...
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    with pytest.raises(AirflowNotFoundException):
        Connection.get(AGENCY_CONN)
    # ... but the project does not take that for an answer
    with pytest.raises(connections.ConnectionLookupFailed) as err:
        connections.resolve_conn_id("snv_report_api", AGENCY)
    assert AGENCY_CONN in str(err.value) and "Không ký và không gửi gì" in str(err.value)
    assert "ConnectionError" in str(err.value)


def test_a_lookup_that_raises_stops_the_submit_task_before_anything_is_sent(monkeypatch, secrets_backend):
    """The intake sandbox listens with the shared login configured; the agency's own connection
    lives in a secrets backend that is down: the task fails and the intake sees no request."""
    sent = []
    monkeypatch.setattr(pipeline, "submit", lambda *a, **k: sent.append(a) or {"MaTiepNhan": "X"})
    with run_sandbox(seed=SEED, dossiers_per_quarter=50, agency=AGENCY) as sb:
        cid, secret, _ = sb.intake_client
        host, port = sb.intake_url.removeprefix("http://").split(":")
        _env_conn(monkeypatch, "snv_report_api", host=host, port=int(port), schema="http", login=cid,
                  password=secret)
        monkeypatch.setenv("AIRFLOW_CONN_REPORT_SIGNING_KEY", json.dumps(
            {"conn_type": "generic", "password": "-----BEGIN PRIVATE KEY-----x", "extra": {"kid": "k"}}))
        secrets_backend("snv_report_api__*,report_signing_key__*")
        period = {"agency": AGENCY, "year": 2025, "quarter": 1, "rule": "nd09"}
        with pytest.raises(connections.ConnectionLookupFailed):
            tasks.submit(period, "manual__2025")
        assert sent == [] and sb.intake_requests() == []
        # Connection.get itself raising (not a backend) is a failed look-up too
        secrets_backend(None)
        from airflow.sdk import Connection

        def broken(conn_id):
            raise TimeoutError("metadata database")

        monkeypatch.setattr(Connection, "get", classmethod(lambda cls, conn_id: broken(conn_id)))
        with pytest.raises(connections.ConnectionLookupFailed, match="TimeoutError"):
            tasks.submit(period, "manual__2025")
        assert sent == [] and sb.intake_requests() == []


# -- which errors fail at once ------------------------------------------------------------------
@pytest.mark.parametrize("exc, fails_at_once", [
    (ApiError(400, "/api/v1/ho-so", {"detail": "tu_ngay sai"}), True),
    (ApiError(403, "/api/v1/bao-cao"), True),
    (ApiError(429, "/api/v1/ho-so"), False),
    (ApiError(408, "/api/v1/ho-so"), False),
    (ApiError(200, "/api/v1/ho-so", None, "thiếu data"), False),
    (pipeline.IdentityError("Biểu 06 vi phạm đẳng thức"), True),
    (pipeline.SubmissionConflict("phiên bản lạ"), True),
    (ConfigError("PARREPORT_PAGE_SIZE='x' không hợp lệ"), True),
    (connections.ConnectionMissing("dvc_portal"), True),
    (json.JSONDecodeError("Unterminated string starting at", "{", 1), False),
    (ValueError("anything else"), False),
    (RuntimeError("bug"), False),
    (connections.ConnectionLookupFailed("x", ConnectionError()), False),
    (ListingRestartsExhausted("/api/v1/ho-so", 4, 3), False),
])
def test_no_retry_covers_only_what_a_retry_cannot_mend(exc, fails_at_once):
    from airflow.sdk.exceptions import AirflowFailException

    @tasks._no_retry
    def task():
        raise exc

    with pytest.raises(Exception) as err:
        task()
    assert isinstance(err.value, AirflowFailException) is fails_at_once
    assert err.value is exc or err.value.__cause__ is exc
    # every failure says what happened and what to do, in Vietnamese
    assert str(err.value).startswith(str(exc).rstrip(".")[:40]) or str(err.value).startswith("Lỗi ngoài dự kiến")
    assert "Việc cần làm:" in str(err.value)


def test_blocking_failures_and_a_broken_suite_fail_at_once():
    from airflow.sdk.exceptions import AirflowFailException

    from parreport.quality.gx_runner import GXRunError
    from parreport.quality.validation import BlockingFailuresExceeded

    for exc_type in (GXRunError, BlockingFailuresExceeded):
        exc = exc_type.__new__(exc_type)
        Exception.__init__(exc, "lỗi")

        @tasks._no_retry
        def task():
            raise exc

        with pytest.raises(AirflowFailException):
            task()


def test_bad_run_params_fail_at_once_in_vietnamese(monkeypatch, tmp_path):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("PARREPORT_DATA_DIR", str(tmp_path))
    with pytest.raises(AirflowFailException, match="Tham số của lần chạy không hợp lệ"):
        tasks.resolve_period({"year": 2025}, "manual", None)
    with pytest.raises(AirflowFailException, match="quý không hợp lệ"):
        tasks.resolve_period({"year": 2025, "quarter": 5}, "manual", None)
