"""How long each task may run, how often it is retried, and how many may call the portal at once.

**The portal pool.** Every task that calls the provincial portal (the five ``extract`` tasks of
every agency's branch) runs in the Airflow pool :data:`PORTAL_POOL` (``dvc_portal``), so a
province-wide run never has more than its slots paging the portal at once, however many
workers there are. The pool is created by the deployment, with ``PARREPORT_PORTAL_POOL_SLOTS``
slots (default 4)::

    airflow pools set dvc_portal "${PARREPORT_PORTAL_POOL_SLOTS:-4}" "Cổng DVC: số nhiệm vụ gọi cổng cùng lúc"

(``scripts/run_quarter.sh``, the compose file's init service and the tests do this after
``airflow db migrate``). The scheduler does not run a task whose pool is missing; ``airflow dags
test`` does not look at pools.

**Timeouts** (:data:`TIMEOUT`, ``execution_timeout`` of each task) are sized from the measured
figures with wide headroom, for a department far larger than the sandbox's: one department-sized
quarter (~6,600 dossiers in the window) runs end to end in 52 s, validation of 500,000 dossiers
takes 261 s (README, "Measured"). The sizing assumes a quarter of up to ~1,000,000 dossiers
(2,000 pages of 500 at ≤ 1 s each, plus retries that honour Retry-After) and leaves ≥ 5× the
time that would take; a task that exceeds it is stuck, not slow.

**Retries**: two, starting 30 s after the failure and doubling (``retry_exponential_backoff``),
never more than :data:`MAX_RETRY_DELAY` apart. A failure a retry cannot mend fails at once
(``tasks._no_retry``).
"""
from __future__ import annotations

from datetime import timedelta

PORTAL_POOL = "dvc_portal"

MAX_RETRY_DELAY = timedelta(minutes=10)

TIMEOUT: dict[str, timedelta] = {
    "list_agencies": timedelta(minutes=5),  # reads the configuration
    "resolve_period": timedelta(minutes=5),  # pure computation
    "extract": timedelta(hours=1),  # ≤ 2,000 pages; the client retries each 8 times with backoff
    "load_staging": timedelta(minutes=30),  # de-duplication and one bulk insert per dataset
    "validate_records": timedelta(hours=1),  # 500,000 dossiers measured at 261 s
    "compute_figures": timedelta(minutes=30),  # exact arithmetic over the accepted dossiers
    "build_report": timedelta(minutes=30),  # spreadsheet, charts, PDF, HTML: seconds measured
    "submit_report": timedelta(minutes=30),  # one signed POST (≤ 20 MiB), 8 attempts of ≤ 60 s + backoff
    "open_receipts": timedelta(minutes=5),  # one query of the store
    "follow_receipt": timedelta(minutes=10),  # on a worker only to defer and to settle (the wait is deferred)
}

DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    # Airflow 3.3 reads this as the multiplier (True would be 1.0: a constant delay)
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": MAX_RETRY_DELAY,
}
