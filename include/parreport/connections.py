"""The three Airflow connections of DESIGN.md, read through Airflow (metadata database,
``AIRFLOW_CONN_<ID>`` variables or a secrets backend). Only called inside tasks.

An agency may have its own intake login and signing key (``<base>__<agency slug>``); without
one, the shared connection ``<base>`` is used. That fallback is taken only when the agency's
connection is *known* to be absent: any other answer of the look-up (a secrets backend that is
down, a timeout) stops the task before anything is signed or sent, since the shared login and
key would send the agency's report as another agency.
"""
from __future__ import annotations

import json
import re

from .config import CONN_PORTAL, CONN_SIGNING_KEY, ConfigError
from .http import Endpoint


class ConnectionMissing(ConfigError):
    """A connection the task needs is defined nowhere Airflow looks (a retry will not mend it)."""

    def __init__(self, conn_id: str):
        self.conn_id = conn_id
        super().__init__(
            f"Chưa có kết nối Airflow {conn_id!r}. Việc cần làm: tạo kết nối này (Admin → Connections, "
            f"biến môi trường AIRFLOW_CONN_{conn_id.upper()} hoặc secrets backend) theo README, rồi xóa (Clear) "
            "nhiệm vụ để chạy lại.")


class ConnectionLookupFailed(RuntimeError):
    """Airflow could not tell whether a connection exists: nothing may be signed or sent."""

    def __init__(self, conn_id: str, cause: BaseException):
        self.conn_id = conn_id
        super().__init__(
            f"Không đọc được kết nối Airflow {conn_id!r} ({type(cause).__name__}): kho bí mật (secrets backend) "
            "hoặc cơ sở dữ liệu Airflow không trả lời. Không ký và không gửi gì, vì dùng kết nối chung có thể gửi "
            "báo cáo bằng tài khoản và khóa ký của đơn vị khác. Việc cần làm: kiểm tra secrets backend/cơ sở dữ "
            "liệu Airflow; Airflow sẽ tự chạy lại nhiệm vụ theo số lần thử lại (retries), hoặc xóa (Clear) nhiệm "
            "vụ sau khi đã khắc phục.")


def _not_found_type() -> type[BaseException]:
    from airflow.sdk.exceptions import AirflowNotFoundException

    return AirflowNotFoundException


def _get(conn_id: str):
    """The connection; :class:`ConnectionMissing` when Airflow says it is not defined,
    :class:`ConnectionLookupFailed` for any other failure of the look-up."""
    from airflow.sdk import Connection  # imported here: DAG parsing must not pay for it

    try:
        return Connection.get(conn_id)
    except _not_found_type():
        raise ConnectionMissing(conn_id) from None
    except Exception as exc:
        raise ConnectionLookupFailed(conn_id, exc) from exc


def _found_by_a_backend(conn_id: str) -> bool:
    """Airflow 3.3's look-up treats a secrets backend that raises as "not here" and goes on to the
    next one, so "not found" may mean "the backend holding it is down". Ask each backend again,
    without that leniency: False only when every one answers "no such connection"; a backend
    that raises is :class:`ConnectionLookupFailed`."""
    from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded

    for backend in ensure_secrets_backend_loaded():
        try:
            if backend.get_connection(conn_id=conn_id) is not None:
                return True
        except Exception as exc:
            raise ConnectionLookupFailed(conn_id, exc) from exc
    return False


def agency_conn_id(base: str, agency: str | None) -> str:
    """``<base>__<agency as a slug>``, e.g. ``snv_report_api__000_00_20_h57``: the intake login and
    the signing key belong to one agency, so a province-wide deployment gives each agency its
    own; an agency without one uses ``<base>``."""
    slug = re.sub(r"[^a-z0-9]+", "_", (agency or "").lower()).strip("_")
    return f"{base}__{slug}"


def resolve_conn_id(base: str, agency: str | None) -> str:
    """The agency's own connection id when it exists, ``base`` when it is known not to; raises
    :class:`ConnectionLookupFailed` when the look-up itself failed."""
    if agency:
        candidate = agency_conn_id(base, agency)
        try:
            _get(candidate)
            return candidate
        except ConnectionMissing:
            if _found_by_a_backend(candidate):
                return candidate
    return base


def connection_extra(conn) -> dict:
    """A connection's extra as a dict (``{}`` when it is empty or not an object)."""
    try:
        extra = conn.extra_dejson
    except Exception:
        extra = json.loads(conn.extra or "{}") if getattr(conn, "extra", None) else {}
    return extra if isinstance(extra, dict) else {}


def endpoint(conn_id: str) -> Endpoint:
    """The API endpoint (base URL, OAuth client id and secret) of connection ``conn_id``."""
    return Endpoint.from_connection(_get(conn_id))


def portal_endpoint() -> Endpoint:
    return endpoint(CONN_PORTAL)


def signing_key(agency: str | None = None) -> tuple[str, str]:
    """(private key PEM, kid) from ``report_signing_key``: password holds the PEM, extra {"kid": …}."""
    conn_id = resolve_conn_id(CONN_SIGNING_KEY, agency)
    conn = _get(conn_id)
    kid = connection_extra(conn).get("kid")
    if not conn.password or "PRIVATE KEY" not in conn.password:
        raise ConfigError(f"kết nối {conn_id!r}: password phải chứa khóa bí mật ES256 dạng PEM. Việc cần làm: "
                          "dán khóa PEM vào ô Password của kết nối rồi xóa (Clear) nhiệm vụ để chạy lại.")
    if not kid:
        raise ConfigError(f"kết nối {conn_id!r}: extra phải có {{\"kid\": \"...\"}} (mã khóa Sở Nội vụ đã "
                          "đăng ký). Việc cần làm: thêm kid vào Extra của kết nối rồi xóa (Clear) nhiệm vụ.")
    return conn.password, kid
