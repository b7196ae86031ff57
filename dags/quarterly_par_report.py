"""Quarterly administrative-procedure report (báo cáo CCHC quý) — wiring only.

The logic lives in the ``parreport`` package (include/parreport); this file declares the
tasks, their order, params and docs, and imports nothing heavy at parse time.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import Param, TaskGroup, dag, task, task_group
from parreport.alerts import dag_deadline, notify_failure
from parreport.calendar_timetable import ReportingWindowTimetable
from parreport.follow_up import REPORT_ACCEPTED
from parreport.kinds import KINDS
from parreport.limits import DEFAULT_ARGS, PORTAL_POOL, TIMEOUT

DOC = """
### Báo cáo CCHC quý: Cổng DVC → kiểm tra → số liệu → gửi Sở Nội vụ

Mỗi lần chạy lập báo cáo của **một đơn vị** cho **một quý** (kỳ số liệu theo Nghị định 09/2019/NĐ-CP:
từ ngày 15 tháng trước quý đến ngày 14 tháng cuối quý, giờ Việt Nam).

Tham số khi chạy tay: `year`, `quarter`, `agency` (mã đơn vị; bỏ trống = các đơn vị đã cấu hình).
Kết nối: `dvc_portal`, `snv_report_api`, `report_signing_key` (mỗi đơn vị có thể có kết nối riêng
`snv_report_api__<mã>` và `report_signing_key__<mã>`).

Mỗi đơn vị là một nhánh **report** (ánh xạ động): cả tỉnh chạy song song trên các worker.

1. **extract** — lấy dữ liệu thô từ Cổng DVC (bỏ dữ liệu cá nhân trước khi ghi, giữ các trang thô của lần chạy).
2. **stage** — nạp vào kho dữ liệu, khử trùng MaHoSo, thay thế phân vùng đơn vị × kỳ.
3. **validate** — kiểm tra từng hồ sơ theo các quy tắc; hồ sơ lỗi được cách ly, không vào số liệu.
4. **compute** — tính Biểu 06 và các chỉ tiêu, kiểm tra các đẳng thức trước khi gửi.
5. **report** — lập báo cáo, ký ES256, gửi Sở Nội vụ với Idempotency-Key; lưu biên nhận.
   Chạy lại với số liệu không đổi không gửi gì mới.

Lần chạy kết thúc khi Sở Nội vụ đã **tiếp nhận** báo cáo (biên nhận DA_TIEP_NHAN đã lưu) và phát sự kiện
`parreport://report-accepted`; việc theo dõi đến khi Sở **duyệt** (DA_DUYET) hoặc **trả lại** (TRA_LAI) do DAG
`receipt_follow_up` làm. Các nhiệm vụ gọi Cổng DVC dùng pool `dvc_portal`.
"""


@dag(
    dag_id="quarterly_par_report",
    description="Báo cáo kết quả giải quyết TTHC hằng quý gửi Sở Nội vụ",
    schedule=ReportingWindowTimetable.from_settings(),
    # The first window's S: 15/12/2023 opens Q1 2024.
    start_date=pendulum.datetime(2023, 12, 15, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["cchc", "bao-cao-quy"],
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    deadline=dag_deadline(),
    params={
        "year": Param(None, type=["null", "integer"], minimum=2000, maximum=2100,
                      title="Năm", description="Năm của quý báo cáo; bỏ trống = quý đã kết thúc gần nhất"),
        "quarter": Param(None, type=["null", "integer"], minimum=1, maximum=4,
                         title="Quý", description="Quý 1–4; đi cùng year"),
        "agency": Param(None, type=["null", "string"], title="Mã đơn vị",
                        description="MaDonVi của đơn vị báo cáo; bỏ trống = đơn vị đã cấu hình"),
    },
)
def quarterly_par_report():
    # Every task returns its summary as one XCom (``return_value``): a ``-> dict`` annotation
    # would otherwise push each key as an XCom of its own, one API call each (multiple_outputs).
    @task(execution_timeout=TIMEOUT["list_agencies"],
          doc_md="Các đơn vị báo cáo của lần chạy: tham số `agency`, hoặc mọi đơn vị trong cấu hình "
                 "(`PARREPORT_AGENCIES`); mỗi đơn vị là một nhánh `report` chạy song song.")
    def list_agencies(**context) -> list[str]:
        from parreport import tasks

        return tasks.list_agencies(context["params"])

    @task(execution_timeout=TIMEOUT["resolve_period"], multiple_outputs=False,
          doc_md="Xác định kỳ báo cáo (năm, quý, từ ngày – đến ngày) của đơn vị.")
    def resolve_period(agency: str, **context) -> dict:
        from parreport import tasks

        dag_run = context.get("dag_run")
        return tasks.resolve_period({**context["params"], "agency": agency}, getattr(dag_run, "run_type", None),
                                    context.get("data_interval_end"), getattr(dag_run, "run_after", None))

    @task(pool=PORTAL_POOL, execution_timeout=TIMEOUT["extract"], multiple_outputs=False)
    def extract(period: dict, dataset: str, **context) -> dict:
        from parreport import tasks

        return tasks.extract(period, dataset, context["run_id"])

    @task(execution_timeout=TIMEOUT["load_staging"], multiple_outputs=False,
          doc_md="Nạp dữ liệu đã lấy vào kho (thay thế phân vùng đơn vị × kỳ), khử trùng MaHoSo.")
    def load_staging(period: dict, extracts: dict, **context) -> dict:
        from parreport import tasks

        return tasks.load(period, extracts, context["run_id"])

    @task(execution_timeout=TIMEOUT["validate_records"], multiple_outputs=False,
          doc_md="Áp dụng các sửa đổi của cán bộ dữ liệu, chạy các bộ kiểm tra Great Expectations trong "
                 "expectations/ và ghi Data Docs của lần chạy; hồ sơ vi phạm quy tắc chặn được cách ly, không "
                 "vào số liệu. Nếu số hồ sơ bị cách ly vượt ngưỡng (mặc định 1 %), lần chạy dừng trước khi gửi: "
                 "xem `parreport quarantine list`, ghi `parreport corrections add`, rồi Clear bước này.")
    def validate_records(period: dict, **context) -> dict:
        from parreport import tasks

        return tasks.validate(period, context["run_id"])

    @task(execution_timeout=TIMEOUT["compute_figures"], multiple_outputs=False,
          doc_md="Tính Biểu 06 và các chỉ tiêu từ hồ sơ hợp lệ; kiểm tra đẳng thức trước khi gửi.")
    def compute_figures(period: dict, **context) -> dict:
        from parreport import tasks

        return tasks.compute(period, context["run_id"])

    @task(execution_timeout=TIMEOUT["build_report"], multiple_outputs=False,
          doc_md="Lập nội dung báo cáo và xác định phiên bản (không tạo phiên bản mới nếu số liệu không đổi).")
    def build_report(period: dict, **context) -> dict:
        from parreport import tasks

        return tasks.build_report(period, context["run_id"])

    @task(outlets=[REPORT_ACCEPTED], execution_timeout=TIMEOUT["submit_report"], multiple_outputs=False,
          doc_md="Ký báo cáo (ES256, JWS tách payload), gửi Sở Nội vụ với Idempotency-Key, lưu biên nhận "
                 "DA_TIEP_NHAN và phát sự kiện `parreport://report-accepted` (đơn vị, năm, quý, phiên bản, "
                 "mã tiếp nhận) để DAG `receipt_follow_up` theo dõi đến khi Sở duyệt hoặc trả lại.")
    def submit_report(period: dict, **context) -> dict:
        from parreport import tasks

        return tasks.submit(period, context["run_id"], context["outlet_events"][REPORT_ACCEPTED])

    @task_group(group_id="report", tooltip="Báo cáo quý của một đơn vị, từ Cổng DVC đến biên nhận")
    def report(agency: str):
        period = resolve_period(agency)
        with TaskGroup(group_id="extract", tooltip="Lấy dữ liệu từ Cổng DVC"):
            extracts = {k.dataset: extract.override(task_id=k.dataset, doc_md=k.doc)(period, k.dataset) for k in KINDS}
        staged = load_staging(period, extracts)
        checked = validate_records(period)
        figures = compute_figures(period)
        built = build_report(period)
        sent = submit_report(period)
        staged >> checked >> figures >> built >> sent

    report.expand(agency=list_agencies())


quarterly_par_report()
