"""``parreport``: the data steward's commands (Vietnamese output).

    parreport quarantine list  --year Y --quarter Q [--agency A] [--format table|csv|xlsx] [--output PATH]
    parreport corrections add  --year Y --quarter Q [--agency A] --ma-ho-so X --field F --value JSON
                               --reason R --by NAME
    parreport corrections list --year Y --quarter Q [--agency A] [--all]
    parreport corrections revoke --id N --reason R --by NAME
    parreport validate         --year Y --quarter Q [--agency A]
    parreport db upgrade       [--url URL]      create the store or upgrade its schema (keeps every row)
    parreport db current       [--url URL]      exit 1 unless the store is at the newest schema
    parreport db revision      -m MESSAGE       (maintainers) a new migration from store/tables.py's changes

The store and the reporting window rule come from the same configuration as the pipeline
(``load_settings()``: PARREPORT_STORE_URL, AIRFLOW_HOME, PARREPORT_CONFIG, ...). Exit codes:
0 done, 1 refused (a correction that does not parse, an unknown field or dossier: nothing is
changed), 2 wrong usage, 3 validation stopped by the blocking threshold.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any, Sequence

from . import quarantine
from . import store as st
from .config import ConfigError, load_settings
from .periods import window_for

CORRECTION_HEADERS = ("Số", "MaHoSo", "Trường", "Giá trị cũ (Cổng DVC)", "Giá trị mới", "Lý do", "Người sửa",
                      "Thời điểm ghi", "Trạng thái")


class _Refused(Exception):
    pass


def _period(args, settings):
    try:
        window = window_for(int(args.year), int(args.quarter), settings.window_rule)
    except ValueError as exc:
        raise _Refused(str(exc)) from exc
    return (args.agency or settings.agency).strip(), window


def _store(settings) -> st.Store:
    return st.Store(settings.store_url)


def quarantine_rows(store: st.Store, agency: str, window_key: str) -> list[dict]:
    """One row per (record, rule broken), dossiers first, in delivery order (the rows of the
    steward's page and its downloads: parreport.quarantine)."""
    from .story import snapshot_quarantine

    return quarantine.flat_rows(snapshot_quarantine(store, agency, window_key),
                                store.unit_names(agency, window_key), agency)


def _table(headers: Sequence[str], rows: list[Sequence[Any]], widths: Sequence[int]) -> str:
    """A plain text table whose last column wraps to the terminal."""
    lines = []

    def fmt(cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        return ["  ".join((w[i] if i < len(w) else "").ljust(widths[j]) for j, w in enumerate(wrapped)).rstrip()
                for i in range(height)]

    lines += fmt(headers)
    lines.append("  ".join("─" * w for w in widths))
    for r in rows:
        lines += fmt([str(c) for c in r])
    return "\n".join(lines)


def _widths(fixed: Sequence[int]) -> list[int]:
    total = max(80, shutil.get_terminal_size((120, 40)).columns)
    last = max(30, total - sum(fixed) - 2 * len(fixed))
    return list(fixed) + [last]


def cmd_quarantine_list(args, settings, out) -> int:
    agency, window = _period(args, settings)
    with _store(settings) as store:
        rows = quarantine_rows(store, agency, window.key)
    n_dossiers = len({r["STT"] for r in rows if r["LoaiBanGhi"] == "hồ sơ"})
    n_ratings = len({r["STT"] for r in rows if r["LoaiBanGhi"] == "đánh giá"})
    fmt = args.format
    if fmt == "table":
        text = (f"Danh sách cách ly — {window.label}, đơn vị {agency}\n"
                f"{n_dossiers} hồ sơ bị cách ly (không vào số liệu), {n_ratings} đánh giá bị loại khỏi HL_HAI_LONG; "
                f"mỗi dòng là một quy tắc bị vi phạm.\n\n")
        if rows:
            text += _table(("Loại", "Mã", "Đơn vị trực thuộc", "Quy tắc", "Trường", "Mô tả lỗi"),
                           [(r["LoaiBanGhi"], r["Ma"], r["DonVi"], r["TenQuyTac"], r["Truong"], r["MoTa"])
                            for r in rows],
                           _widths((9, 26, 26, 28, 22)))
        else:
            text += "Không có bản ghi nào bị cách ly."
        text += ("\n\nSửa một hồ sơ: parreport corrections add --year {y} --quarter {q} --agency {a} --ma-ho-so <MaHoSo> "
                 "--field <Trường> --value '<JSON>' --reason '<lý do>' --by '<họ tên>'").format(
            y=window.year, q=window.quarter, a=agency)
        _emit(text + "\n", args.output, out)
    elif fmt == "csv":
        data = quarantine.csv_bytes(rows)  # with a BOM: Excel reads UTF-8
        if args.output:
            Path(args.output).write_bytes(data)
            out.write(f"Đã ghi {len(rows)} dòng vào {args.output}\n")
        else:
            out.write(data.decode("utf-8-sig"))
    else:  # xlsx
        if not args.output:
            raise _Refused("Định dạng xlsx cần --output <tệp.xlsx>.")
        quarantine.write_xlsx(Path(args.output), rows, title=f"Cách ly {window.label}, {agency}")
        out.write(f"Đã ghi {len(rows)} dòng vào {args.output}\n")
    return 0



def _emit(text: str, output: str | None, out) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        out.write(f"Đã ghi vào {output}\n")
    else:
        out.write(text)


def _show(value: Any) -> str:
    return "(không có)" if value is None else json.dumps(value, ensure_ascii=False)


def cmd_corrections_add(args, settings, out) -> int:
    from .quality.corrections import CorrectionError, add_correction

    agency, window = _period(args, settings)
    with _store(settings) as store:
        try:
            c = add_correction(store, agency, window.key, ma_ho_so=args.ma_ho_so, field=args.field,
                               value=args.value, reason=args.reason, by=args.by)
        except CorrectionError as exc:
            raise _Refused(f"Không ghi sửa đổi: {exc}") from exc
    out.write(f"Đã ghi sửa đổi số {c['id']} cho hồ sơ {c['ma_ho_so']}, trường {c['field']}: "
              f"{_show(c['old_value'])} → {_show(c['value'])}.\n"
              f"Sửa đổi được áp dụng ở lần kiểm tra tiếp theo (Clear bước validate_records trong Airflow, chạy lại "
              f"quý, hoặc: parreport validate --year {window.year} --quarter {window.quarter} --agency {agency}).\n")
    return 0


def cmd_corrections_list(args, settings, out) -> int:
    from .quality.corrections import STATUS_TITLES, list_corrections

    agency, window = _period(args, settings)
    with _store(settings) as store:
        rows = list_corrections(store, agency, window.key, active_only=not args.all)
    out.write(f"Sửa đổi dữ liệu — {window.label}, đơn vị {agency}"
              f"{'' if args.all else ' (đang áp dụng; thêm --all để xem cả lịch sử)'}: {len(rows)}\n\n")
    if rows:
        table = [(c["id"], c["ma_ho_so"], c["field"], _show(c["old_value"]), _show(c["value"]), c["reason"],
                  c["created_by"], f"{c['created_at']:%Y-%m-%d %H:%M}", STATUS_TITLES.get(c["status"], c["status"]))
                 for c in rows]
        out.write(_table(CORRECTION_HEADERS, table, (4, 28, 22, 18, 18, 24, 14, 16, 20)) + "\n")
        if args.all:
            out.write("\nNhật ký:\n")
            for c in rows:
                for e in c["events"]:
                    out.write(f"  #{c['id']} {e['at']:%Y-%m-%d %H:%M:%S} {e['event']} ({e['actor'] or ''}) "
                              f"{json.dumps(e['detail'] or {}, ensure_ascii=False)}\n")
    return 0


def cmd_corrections_revoke(args, settings, out) -> int:
    from .quality.corrections import CorrectionError, revoke_correction

    with _store(settings) as store:
        try:
            revoke_correction(store, int(args.id), reason=args.reason, by=args.by)
        except CorrectionError as exc:
            raise _Refused(f"Không hủy được: {exc}") from exc
    out.write(f"Đã hủy sửa đổi số {args.id}; có hiệu lực ở lần kiểm tra tiếp theo.\n")
    return 0


def cmd_validate(args, settings, out) -> int:
    from . import pipeline
    from .quality.validation import BlockingFailuresExceeded

    from .story import adhoc_run_id, evidence_dir

    agency, window = _period(args, settings)
    # A steward's check writes its own evidence folder; an Airflow run's is never touched.
    run_id = adhoc_run_id(settings.storage, agency, window.key)
    folder = evidence_dir(settings.storage, agency, window.key, run_id)
    try:
        summary = pipeline.validate(settings, pipeline.Period(agency, window), run_id)
    except BlockingFailuresExceeded as exc:
        out.write(str(exc) + "\n")
        out.write(f"Bằng chứng của lần kiểm tra này (mã {run_id}): {folder / 'tom-tat.html'}\n")
        return 3
    out.write(f"{window.label}, đơn vị {agency}: {summary['dossiers']} hồ sơ, {summary['quarantined']} bị cách ly, "
              f"{summary['corrected']} đã sửa; {summary['ratings_rejected']} đánh giá bị loại.\n"
              f"Bằng chứng của lần kiểm tra này (mã {run_id}): {folder / 'tom-tat.html'} "
              f"(Data Docs: {folder / 'index.html'})\n")
    return 0


def cmd_db_upgrade(args, settings, out) -> int:
    from . import db

    url = args.url or settings.store_url
    try:
        result = db.upgrade(url)
    except Exception as exc:  # noqa: BLE001 - the operator sees why, nothing half-done stays (one transaction)
        raise _Refused(f"Không nâng cấp được kho dữ liệu {db.safe_url(url)}: {exc}") from exc
    if result.before is None and result.adopted:
        out.write(f"Kho {db.safe_url(url)} đã có {len(result.adopted)} bảng từ trước khi có quản lý phiên bản: "
                  f"giữ nguyên mọi dòng, ghi nhận phiên bản lược đồ {result.after}.\n")
    elif result.before is None:
        out.write(f"Đã tạo kho dữ liệu {db.safe_url(url)} ở phiên bản lược đồ {result.after}.\n")
    elif result.changed:
        out.write(f"Đã nâng cấp kho {db.safe_url(url)}: phiên bản lược đồ {result.before} → {result.after}.\n")
    else:
        out.write(f"Kho {db.safe_url(url)} đã ở phiên bản lược đồ mới nhất ({result.after}).\n")
    return 0


def cmd_db_current(args, settings, out) -> int:
    from sqlalchemy import create_engine

    from . import db

    url = args.url or settings.store_url
    engine = create_engine(url)
    try:
        db.require_head(engine)
    except db.StoreNotReady as exc:
        raise _Refused(str(exc)) from exc
    finally:
        engine.dispose()
    out.write(f"Kho {db.safe_url(url)} ở phiên bản lược đồ mới nhất ({db.head_revision()}).\n")
    return 0


def cmd_db_revision(args, settings, out) -> int:
    from . import db

    for path in db.new_revision(args.message, autogenerate=not args.empty):
        out.write(f"Đã tạo bản di chuyển lược đồ {path}: đọc và sửa trước khi commit.\n")
    return 0


def cmd_storage_check(args, settings, out) -> int:
    from . import storage

    try:
        where = storage.check(settings)
    except Exception as exc:  # noqa: BLE001 - one sentence for the operator, then stop
        raise _Refused(f"Không ghi/đọc được kho tệp {settings.storage_url or settings.data_dir} "
                       f"({type(exc).__name__}: {exc}). Việc cần làm: kiểm tra PARREPORT_STORAGE_URL và kết nối "
                       f"{settings.storage_conn_id or '(trong URL)'}.") from exc
    out.write(f"Kho tệp {where}: ghi, đọc, xoá được.\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="parreport", description="Công cụ của cán bộ dữ liệu: cách ly, sửa đổi, kiểm tra; "
                                "kho dữ liệu (db upgrade).")
    sub = p.add_subparsers(dest="group", required=True)

    def period_args(sp, agency_required=False):
        sp.add_argument("--year", type=int, required=True, help="năm của quý báo cáo")
        sp.add_argument("--quarter", type=int, required=True, choices=(1, 2, 3, 4), help="quý 1–4")
        sp.add_argument("--agency", required=agency_required, help="MaDonVi; bỏ trống = đơn vị đã cấu hình")

    q = sub.add_parser("quarantine", help="danh sách bản ghi bị cách ly").add_subparsers(dest="action", required=True)
    ql = q.add_parser("list", help="liệt kê các bản ghi bị cách ly của một quý")
    period_args(ql)
    ql.add_argument("--format", choices=("table", "csv", "xlsx"), default="table")
    ql.add_argument("--output", help="ghi ra tệp thay vì màn hình (bắt buộc với xlsx)")
    ql.set_defaults(func=cmd_quarantine_list)

    c = sub.add_parser("corrections", help="sửa đổi dữ liệu của hồ sơ").add_subparsers(dest="action", required=True)
    ca = c.add_parser("add", help="ghi một sửa đổi")
    period_args(ca)
    ca.add_argument("--ma-ho-so", required=True, help="MaHoSo của hồ sơ")
    ca.add_argument("--field", required=True, help="trường cần sửa, ví dụ NgayHenTra, ThuXinLoi.SoThu, DanhSachLePhi[0].Gia")
    ca.add_argument("--value", required=True, help="giá trị mới dạng JSON, ví dụ '\"20250320170000\"', 50000, null")
    ca.add_argument("--reason", required=True, help="lý do sửa")
    ca.add_argument("--by", required=True, help="người sửa")
    ca.set_defaults(func=cmd_corrections_add)
    cl = c.add_parser("list", help="liệt kê các sửa đổi")
    period_args(cl)
    cl.add_argument("--all", action="store_true", help="cả các sửa đổi đã hết áp dụng, kèm nhật ký")
    cl.set_defaults(func=cmd_corrections_list)
    cr = c.add_parser("revoke", help="hủy một sửa đổi")
    cr.add_argument("--id", required=True, type=int)
    cr.add_argument("--reason", required=True)
    cr.add_argument("--by", required=True)
    cr.set_defaults(func=cmd_corrections_revoke)

    d = sub.add_parser("db", help="kho dữ liệu của pipeline: tạo, nâng cấp lược đồ").add_subparsers(
        dest="action", required=True)
    du = d.add_parser("upgrade", help="tạo kho hoặc nâng cấp lên phiên bản lược đồ mới nhất (giữ nguyên dữ liệu)")
    du.add_argument("--url", help="URL SQLAlchemy của kho; bỏ trống = PARREPORT_STORE_URL / cấu hình")
    du.set_defaults(func=cmd_db_upgrade)
    dc = d.add_parser("current", help="kiểm tra kho đã ở phiên bản lược đồ mới nhất chưa (mã 1 nếu chưa)")
    dc.add_argument("--url", help="URL SQLAlchemy của kho; bỏ trống = PARREPORT_STORE_URL / cấu hình")
    dc.set_defaults(func=cmd_db_current)
    dr = d.add_parser("revision", help="(người bảo trì) tạo bản di chuyển mới từ thay đổi của store/tables.py")
    dr.add_argument("-m", "--message", required=True, help="mô tả ngắn, tiếng Anh (thành tên tệp)")
    dr.add_argument("--empty", action="store_true", help="tệp rỗng thay vì so sánh với store.metadata")
    dr.set_defaults(func=cmd_db_revision)

    s = sub.add_parser("storage", help="kho tệp của các lần chạy (PARREPORT_STORAGE_URL)").add_subparsers(
        dest="action", required=True)
    s.add_parser("check", help="tạo kho (bucket) nếu chưa có, ghi–đọc–xoá một tệp thử").set_defaults(
        func=cmd_storage_check)

    v = sub.add_parser("validate", help="kiểm tra lại dữ liệu đã nạp của một quý (áp dụng các sửa đổi)")
    period_args(v)
    v.set_defaults(func=cmd_validate)
    return p


def main(argv: Sequence[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"Lỗi cấu hình: {exc}\n")
        return 2
    from .db import StoreNotReady

    try:
        return args.func(args, settings, out)
    except (_Refused, StoreNotReady) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
