"""Receipts after the quarter (theo dõi biên nhận) — wiring only.

Runs on every acceptance of a quarter's report (the Asset ``parreport://report-accepted`` that
``quarterly_par_report`` emits) and once a day, and follows every receipt the Sở Nội vụ has not
decided on yet. The logic lives in ``parreport.follow_up`` and ``parreport.receipts``.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from parreport.alerts import notify_failure
from parreport.follow_up import REPORT_ACCEPTED
from parreport.limits import DEFAULT_ARGS, TIMEOUT
from parreport.receipts import WaitForReceiptOperator

DOC = """
### Theo dõi biên nhận của Sở Nội vụ

Chạy mỗi khi một báo cáo quý được Sở Nội vụ **tiếp nhận** (sự kiện `parreport://report-accepted` của DAG
`quarterly_par_report`) và mỗi ngày một lần (07:00 giờ Việt Nam).

1. **open_receipts** — mọi phiên bản đã được tiếp nhận mà biên nhận còn `DA_TIEP_NHAN` (mọi đơn vị, mọi quý).
2. **follow_receipt** — mỗi biên nhận một nhánh, chờ trong triggerer (không giữ worker) đến khi Sở **duyệt**
   (`DA_DUYET`) hoặc **trả lại** (`TRA_LAI`); ghi trạng thái vào kho và `bien-nhan.json`, hiện trên trang
   "Báo cáo CCHC". Báo cáo bị trả lại được cảnh báo qua webhook và e-mail kèm lý do và việc cần làm.
   Chưa có kết quả sau `PARREPORT_RECEIPT_WAIT_HOURS` giờ (mặc định 20): lần chạy ngày hôm sau theo dõi tiếp.
"""


@dag(
    dag_id="receipt_follow_up",
    description="Theo dõi biên nhận báo cáo CCHC quý đến khi Sở Nội vụ duyệt hoặc trả lại",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 7 * * *", timezone="Asia/Ho_Chi_Minh"),
                                 assets=[REPORT_ACCEPTED]),
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["cchc", "bien-nhan"],
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
)
def receipt_follow_up():
    @task(execution_timeout=TIMEOUT["open_receipts"],
          doc_md="Các biên nhận còn chờ Sở Nội vụ xem xét (DA_TIEP_NHAN), kèm kết nối tiếp nhận của đơn vị.")
    def open_receipts() -> list[dict]:
        from parreport import tasks

        return tasks.open_receipts()

    WaitForReceiptOperator.partial(
        task_id="follow_receipt", execution_timeout=TIMEOUT["follow_receipt"],
        doc_md="Theo dõi một biên nhận (DA_TIEP_NHAN → DA_DUYET hoặc TRA_LAI) mà không giữ worker; ghi kết quả "
               "vào kho, bien-nhan.json và câu chuyện của lần chạy đã gửi; TRA_LAI được cảnh báo kèm lý do.",
    ).expand(receipt_no=open_receipts())


receipt_follow_up()
