"""The sector report as an ``.xlsx`` workbook (openpyxl): one sheet per section, headings in Vietnamese,
the period and the scope at the top of every sheet (a sheet is often printed or sent on its own)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

if TYPE_CHECKING:
    from gateway.composition.calls import PartError
    from gateway.composition.report import SectorReport

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "BÁO CÁO KẾT QUẢ CÔNG TÁC TỔ CHỨC XÂY DỰNG ĐẢNG"

# Vietnamese names of the codes the report uses; an unknown code is shown as it is.
LABELS: dict[str, str] = {
    # documents
    "resolution": "Nghị quyết",
    "directive": "Chỉ thị",
    "conclusion": "Kết luận",
    "regulation": "Quy định",
    "plan": "Kế hoạch",
    "project": "Đề án",
    "report": "Báo cáo",
    "instruction": "Hướng dẫn",
    "decision": "Quyết định",
    # organization kinds
    "commune": "Xã",
    "ward": "Phường",
    "special_zone": "Đặc khu",
    "agency": "Cơ quan",
    "public_service_unit": "Đơn vị sự nghiệp",
    "state_enterprise": "Doanh nghiệp nhà nước",
    "private_enterprise": "Doanh nghiệp tư nhân",
    "fdi_enterprise": "Doanh nghiệp có vốn đầu tư nước ngoài",
    "cooperative": "Hợp tác xã",
    "military": "Quân đội",
    "police": "Công an",
    "residential": "Khu dân cư",
    "school": "Trường học",
    "other": "Khác",
    # levels
    "province": "Đảng bộ tỉnh",
    "upper_grassroots": "Cấp trên cơ sở",
    "grassroots_committee": "Đảng bộ cơ sở",
    "grassroots_cell": "Chi bộ cơ sở",
    "sub_committee": "Đảng bộ bộ phận",
    "cell": "Chi bộ trực thuộc",
    # ratings
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "good": "Hoàn thành tốt nhiệm vụ",
    "completed": "Hoàn thành nhiệm vụ",
    "failed": "Không hoàn thành nhiệm vụ",
    # members
    "probationary": "Dự bị",
    "official": "Chính thức",
    "exempt": "Miễn sinh hoạt",
    "removed": "Xóa tên",
    "expelled": "Khai trừ",
    "deceased": "Từ trần",
    "withdrawn": "Xin ra khỏi Đảng",
    # personnel actions
    "transfer": "Điều động",
    "rotation": "Luân chuyển",
    "secondment": "Biệt phái",
    "arrangement": "Bố trí, phân công",
    "appointment": "Bổ nhiệm",
    "reappointment": "Bổ nhiệm lại",
    "candidate_introduction": "Giới thiệu ứng cử",
    "designation": "Chỉ định tham gia cấp ủy",
    "appointment_opinion": "Cho ý kiến bổ nhiệm",
    "dismissal": "Miễn nhiệm",
    "relief": "Cho thôi giữ chức vụ",
    "resignation": "Từ chức",
    "retirement": "Nghỉ hưu",
    # theory levels and programme kinds
    "none": "Chưa qua đào tạo",
    "elementary": "Sơ cấp",
    "intermediate": "Trung cấp",
    "advanced": "Cao cấp",
    "bachelor": "Cử nhân",
    "political_theory": "Lý luận chính trị",
    "fostering": "Bồi dưỡng",
    "knowledge_update": "Cập nhật kiến thức",
    "professional": "Chuyên môn, nghiệp vụ",
    "party_awareness": "Nhận thức về Đảng",
    "new_member": "Đảng viên mới",
    # payroll
    "civil_servant": "Cán bộ, công chức",
    "public_employee": "Viên chức",
}

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
Row = tuple[str, Any]


def _label(code: str) -> str:
    return LABELS.get(code, code)


def _by(mapping: Mapping[str, Any]) -> list[Row]:
    return [(_label(key), value) for key, value in sorted(mapping.items(), key=lambda kv: _label(kv[0]))]


def _date(day: Any) -> str:
    return day.strftime("%d/%m/%Y")


def _percent(rate: float | None) -> str | None:
    return None if rate is None else f"{rate * 100:.2f} %"


class _Sheets:
    def __init__(self, report: SectorReport, missing: Mapping[str, str]) -> None:
        self.book = Workbook()
        self.report = report
        self.missing = missing
        self.first = True

    def sheet(self, title: str, section: str, blocks: Iterable[tuple[str, Sequence[Row]]] | None) -> None:
        sheet: Worksheet
        if self.first:
            sheet = self.book.active
            sheet.title = title
            self.first = False
        else:
            sheet = self.book.create_sheet(title)
        period, scope = self.report.period, self.report.scope
        sheet.append([TITLE])
        sheet["A1"].font = TITLE_FONT
        sheet.append([title])
        sheet["A2"].font = BOLD
        sheet.append(["Kỳ báo cáo", f"từ {_date(period.from_)} đến {_date(period.to)}"])
        sheet.append(["Phạm vi", scope.name or "Toàn bộ (theo phạm vi được phân quyền)"])
        sheet.append([])
        if blocks is None:
            service = self.missing.get(section, "")
            sheet.append(["Không có số liệu", f"dịch vụ {service} không trả lời kịp (báo cáo chưa đầy đủ)"])
        else:
            for heading, rows in blocks:
                sheet.append([heading, "Số lượng"])
                sheet.cell(sheet.max_row, 1).font = BOLD
                sheet.cell(sheet.max_row, 2).font = BOLD
                for row in rows or [("(không có)", 0)]:
                    sheet.append(list(row))
                sheet.append([])
        sheet.column_dimensions["A"].width = 58
        sheet.column_dimensions["B"].width = 22
        for cells in sheet.iter_rows(min_col=2, max_col=2):
            for cell in cells:
                cell.alignment = Alignment(horizontal="right")


def report_workbook(report: SectorReport, *, partial: Sequence[PartError] = ()) -> bytes:
    missing = {error.part: error.service for error in partial}
    s = _Sheets(report, missing)
    d, o, m, cov = report.documents, report.organizations, report.members, report.coverage
    s.sheet("Văn bản", "documents", [("Văn bản ban hành theo loại", _by(d.issued_by_kind))])
    ratings: list[Row] = []
    for year, counts in sorted(o.ratings_by_year.items()):
        ratings += [(f"Năm {year}: {_label(k)}", v) for k, v in sorted(counts.items())]
    s.sheet(
        "Tổ chức đảng",
        "organizations",
        [
            ("Tổ chức cơ sở đảng thành lập mới, theo loại hình", _by(o.grassroots_established_by_kind)),
            ("Tổ chức cơ sở đảng hoạt động cuối kỳ, theo loại hình", _by(o.grassroots_active_at_end_by_kind)),
            ("Tổ chức đảng thành lập, theo cấp", _by(o.established_by_level)),
            ("Tổ chức đảng giải thể, theo cấp", _by(o.dissolved_by_level)),
            ("Tổ chức đảng hợp nhất, sáp nhập, theo cấp", _by(o.merged_by_level)),
            ("Đánh giá, xếp loại tổ chức đảng", ratings),
        ],
    )
    s.sheet(
        "Đảng viên",
        "members",
        [
            ("Kết nạp đảng viên", [("Tổng số", m.admitted_total), *_by(m.admitted_by_kind)]),
            ("Công nhận đảng viên chính thức", [("Tổng số", m.recognized_total)]),
            ("Đảng viên ra khỏi Đảng, theo lý do", _by(m.left_by_reason)),
            ("Đảng viên cuối kỳ, theo tình trạng", _by(m.active_at_end_by_status)),
        ],
    )
    s.sheet(
        "Địa bàn dân cư",
        "coverage",
        [
            (
                "Thôn, xóm, bản, tổ dân phố (cuối kỳ)",
                [
                    ("Tổng số", cov.units_total),
                    ("Chưa có chi bộ", cov.units_without_cell),
                    ("Chưa có đảng viên", cov.units_without_members),
                ],
            )
        ],
    )
    p = report.personnel
    s.sheet(
        "Cán bộ",
        "personnel",
        None
        if p is None
        else [
            ("Quyết định về cán bộ, theo loại", _by(p.actions_by_kind)),
            ("Số cán bộ, theo loại quyết định", _by(p.cadres_by_kind)),
            (
                "Điều động, luân chuyển, biệt phái, bố trí, bổ nhiệm, bổ nhiệm lại",
                [("Số cán bộ", p.cadres_moved_or_appointed)],
            ),
        ],
    )
    pay = report.payroll
    s.sheet(
        "Biên chế",
        "payroll",
        None
        if pay is None
        else [
            (
                f"Tinh giản biên chế: {_label(name)}",
                [
                    (f"Biên chế năm gốc ({line.baseline_year})", line.baseline),
                    (f"Biên chế được giao năm {line.year}", line.allocated),
                    ("Tỷ lệ tinh giản", _percent(line.rate)),
                    ("Chỉ tiêu", _percent(line.target)),
                    ("Đạt chỉ tiêu", None if line.met is None else ("Đạt" if line.met else "Chưa đạt")),
                ],
            )
            for name, line in (("civil_servant", pay.civil_servant), ("public_employee", pay.public_employee))
        ],
    )
    pl = report.planning
    s.sheet(
        "Quy hoạch",
        "planning",
        None
        if pl is None
        else [
            (
                f"Quy hoạch cán bộ nhiệm kỳ {pl.term} (cuối kỳ)",
                [
                    ("Số chức danh", pl.posts),
                    ("Chức danh chưa có nhân sự quy hoạch", pl.posts_without_candidate),
                    ("Số cán bộ trong quy hoạch", pl.candidates),
                    ("Cán bộ đáp ứng tiêu chuẩn", pl.ready_candidates),
                ],
            )
        ],
    )
    t = report.training
    s.sheet(
        "Đào tạo",
        "training",
        None
        if t is None
        else [
            ("Cử cán bộ đi đào tạo lý luận chính trị, theo trình độ", _by(t.cadres_sent_by_theory_level)),
            ("Cử cán bộ đi đào tạo, bồi dưỡng, theo loại chương trình", _by(t.cadres_sent_by_programme_kind)),
            ("Hoàn thành chương trình lý luận chính trị, theo trình độ", _by(t.completed_by_theory_level)),
        ],
    )
    buffer = io.BytesIO()
    s.book.save(buffer)
    return buffer.getvalue()
