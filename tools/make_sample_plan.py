"""Write docs/examples/ke-hoach-cchc-2026.docx: the Word plan the README's "Set up your own
agency" imports, shaped as agencies write theirs (a header, a task table with group rows, a
heading spread over two header rows, units written in full or abbreviated).

Run from the repository root: `.venv/bin/python tools/make_sample_plan.py`. The file is
committed; this script says how it was made and makes it again after a change.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

OUT = Path("docs/examples/ke-hoach-cchc-2026.docx")

GROUPS: list[tuple[str, str, list[tuple[str, str, str, str, str, str]]]] = [
    (
        "I.",
        "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH",
        [
            (
                "1",
                "Xây dựng, ban hành Kế hoạch cải cách hành chính năm 2026 của Sở",
                "Văn phòng Sở",
                "Các phòng, đơn vị thuộc Sở",
                "Quý I/2026",
                "Kế hoạch được ban hành",
            ),
            (
                "2",
                "Báo cáo định kỳ kết quả thực hiện công tác cải cách hành chính",
                "Văn phòng Sở",
                "Các phòng, đơn vị thuộc Sở",
                "Hằng quý",
                "Báo cáo quý, 6 tháng, năm",
            ),
            (
                "3",
                "Kiểm tra công tác cải cách hành chính tại ít nhất 30% số phòng, đơn vị",
                "Thanh tra Sở",
                "Văn phòng Sở",
                "Trong năm 2026",
                "Biên bản kiểm tra; Thông báo kết luận",
            ),
        ],
    ),
    (
        "II.",
        "CẢI CÁCH THỦ TỤC HÀNH CHÍNH",
        [
            (
                "1",
                "Rà soát, đơn giản hóa thủ tục hành chính lĩnh vực thương mại",
                "Phòng Quản lý thương mại",
                "Văn phòng Sở",
                "Trước 30/6/2026",
                "Báo cáo kết quả rà soát",
            ),
            (
                "2",
                "Công khai thủ tục hành chính và kết quả giải quyết hồ sơ trên Cổng thông "
                "tin điện tử của Sở",
                "Văn phòng Sở",
                "Phòng Quản lý thương mại; Phòng Quản lý công nghiệp",
                "Thường xuyên",
                "100% thủ tục hành chính được công khai",
            ),
            (
                "3",
                "Xin lỗi người dân, tổ chức khi hồ sơ thủ tục hành chính giải quyết trễ hẹn",
                "Văn phòng Sở",
                "Các phòng, đơn vị thuộc Sở",
                "Thường xuyên",
                "Thư xin lỗi theo Mẫu số 04",
            ),
        ],
    ),
    (
        "III.",
        "CẢI CÁCH TÀI CHÍNH CÔNG",
        [
            (
                "1",
                "Thực hiện cơ chế tự chủ, tự chịu trách nhiệm về sử dụng biên chế và kinh "
                "phí quản lý hành chính",
                "Phòng Kế hoạch - Tài chính",
                "",
                "Năm 2026",
                "Báo cáo quyết toán",
            ),
        ],
    ),
    (
        "IV.",
        "XÂY DỰNG VÀ PHÁT TRIỂN CHÍNH QUYỀN ĐIỆN TỬ, CHÍNH QUYỀN SỐ",
        [
            (
                "1",
                "Nâng tỷ lệ hồ sơ thủ tục hành chính được giải quyết trực tuyến toàn trình",
                "Phòng Quản lý năng lượng",
                "Văn phòng Sở",
                "6 tháng đầu năm",
                "Tỷ lệ hồ sơ trực tuyến toàn trình đạt trên 80%",
            ),
            (
                "2",
                "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
                "Văn phòng Sở",
                "P. Quản lý công nghiệp",
                "Hằng tháng",
                "Hồ sơ được số hóa",
            ),
        ],
    ),
]


def _centred(document: object, text: str, *, bold: bool = False, size: int = 13) -> None:
    paragraph = document.add_paragraph()  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


def build(out: Path) -> None:
    document = Document()
    _centred(document, "UBND TỈNH KHÁNH HÒA\nSỞ CÔNG THƯƠNG", bold=True)
    _centred(document, "Số: 15/KH-SCT", size=13)
    _centred(document, "KẾ HOẠCH", bold=True, size=14)
    _centred(document, "Cải cách hành chính năm 2026 của Sở Công Thương tỉnh Khánh Hòa", bold=True)
    document.add_paragraph(
        "Thực hiện Kế hoạch cải cách hành chính năm 2026 của UBND tỉnh Khánh Hòa, Sở Công "
        "Thương ban hành Kế hoạch với các nhiệm vụ cụ thể như sau:"
    )
    table = document.add_table(rows=2, cols=6)
    table.style = "Table Grid"
    top, below = table.rows[0].cells, table.rows[1].cells
    # The heading as agencies draw it: "Đơn vị" spread over "Chủ trì" and "Phối hợp".
    for index, text in (
        (0, "TT"),
        (1, "Nội dung nhiệm vụ"),
        (4, "Thời gian thực hiện"),
        (5, "Sản phẩm"),
    ):
        merged = top[index].merge(below[index])
        merged.text = text
    unit = top[2].merge(top[3])
    unit.text = "Đơn vị"
    below[2].text = "Chủ trì"
    below[3].text = "Phối hợp"
    for number, title, rows in GROUPS:
        cells = table.add_row().cells
        cells[0].text = number
        spread = cells[1].merge(cells[5])
        spread.text = title
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text
    document.add_paragraph(
        "Các phòng, đơn vị thuộc Sở báo cáo kết quả thực hiện về Văn phòng Sở trước ngày "
        "10 của tháng cuối quý để tổng hợp./."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    build(target)
    print(f"wrote {target}")
