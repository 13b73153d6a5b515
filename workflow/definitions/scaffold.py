"""Commented files to fill in: a new organisation (`planflow orgs new`) and a plan skeleton
(`planflow plans new`).

Each is valid as written, its placeholder values included, so that `planflow plans validate`
passes at once and then points at each mistake made while filling it in; the comments, in
Vietnamese for the civil servants who fill them, say what every field is and which values
are placeholders (marked `THAY`: "replace").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from pathlib import Path

from workflow.definitions.models import ABBREVIATION_PATTERN, CODE_PATTERN

SCHEMA_FILE = "planflow-schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
# What `planflow plans schema > planflow-schema.json` writes next to the files: editors with
# the YAML language server then check and complete each field as it is typed.


def schema_line(target: Path | None) -> str:
    """The schema line for a file written at `target`: the path, relative to it, of the
    nearest planflow-schema.json in its folder or above (a plan in `plans/` points at the
    organisation folder's `../planflow-schema.json`); the plain name when there is none yet."""
    if target is None:
        return SCHEMA_LINE
    folder = target.absolute().parent
    for above in (folder, *folder.parents):
        if (above / SCHEMA_FILE).is_file():
            relative = os.path.relpath(above / SCHEMA_FILE, folder)
            return f"# yaml-language-server: $schema={Path(relative).as_posix()}"
    return SCHEMA_LINE


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def slug(code: str) -> str:
    """`KHA-SCT` -> `kha-sct`: ids of people and plans are lower-case."""
    ascii_text = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower()).strip("-._") or "org"


def valid_code(code: str) -> bool:
    return re.fullmatch(CODE_PATTERN, code) is not None


def abbreviation_of(code: str) -> str:
    """A first guess at the ký hiệu: the code's last part (`KHA-SCT` -> `SCT`)."""
    parts = [p for p in re.split(r"[-_]", code) if re.fullmatch(ABBREVIATION_PATTERN, p)]
    return parts[-1] if parts else "CQ"


def organisation_file(code: str, name: str, schema: str = SCHEMA_LINE) -> str:
    """A new organisation's file: one office unit and one administrator, to complete."""
    person = f"{slug(code)}.vp.quan-tri"
    abbreviation = abbreviation_of(code)
    return f"""\
{schema}
# Tệp cơ quan, đơn vị: các phòng, nhóm phòng, người dùng và lịch làm việc riêng.
# Điền lần lượt từng mục; các giá trị có ghi "THAY" là giá trị mẫu, phải thay bằng giá trị thật.
# Kiểm tra sau mỗi lần sửa: planflow plans validate TỆP-NÀY.yaml
kind: organisation
# Mã cơ quan: chữ in hoa không dấu, chữ số, "-" hoặc "_" (các kế hoạch ghi mã này).
code: {code}
# Tên đầy đủ của cơ quan, như trên văn bản.
name: {_quoted(name)}
# Tỉnh, thành phố. THAY
province: "Tên tỉnh"
# Mã của đơn vị đầu mối (thường là Văn phòng): theo dõi, duyệt kết quả, tổng hợp báo cáo.
office_unit: VP

# Các đơn vị trực thuộc: mỗi đơn vị một mã ngắn (chữ in hoa không dấu) và tên đầy đủ.
# Kế hoạch giao nhiệm vụ theo mã này (lead_unit, cooperating_units).
units:
  - code: VP
    name: "Văn phòng"
  # THAY: thêm từng phòng, ví dụ:
  # - code: TTR
  #   name: "Thanh tra"

# Nhóm đơn vị (không bắt buộc): kế hoạch ghi "các phòng, đơn vị" thì khai báo một nhóm.
# units: danh sách mã đơn vị, hoặc all (mọi đơn vị).
groups:
  - code: CPDV
    name: "Các phòng, đơn vị"
    units: all

# Người dùng: id viết thường không dấu (ví dụ {slug(code)}.vp.nguyen-van-a), đơn vị, vai trò.
# Vai trò: staff (chuyên viên), unit_head (trưởng đơn vị), office (đầu mối), leader (lãnh
# đạo), inspector (kiểm tra), auditor (kiểm toán nhật ký), admin (quản trị tài khoản).
# Đơn vị đầu mối nên có ít nhất hai người giữ vai trò office (nguyên tắc bốn mắt).
people:
  - id: {person}
    name: "Người quản trị"  # THAY: họ và tên
    unit: VP
    roles: [admin]

# Văn bản cơ quan ban hành (thư xin lỗi, thông báo kết luận kiểm tra, báo cáo), theo Nghị định
# 30/2020/NĐ-CP. Không bắt buộc; khi bỏ trống: ký hiệu là mã cơ quan, địa danh là tỉnh.
documents:
  # Cơ quan chủ quản, in phía trên tên cơ quan (bỏ dòng này nếu không có). THAY
  governing_body: "UBND TỈNH ..."
  # Ký hiệu viết tắt tên cơ quan trong số văn bản, ví dụ 15/TB-{abbreviation}. THAY
  abbreviation: "{abbreviation}"
  # Địa danh trước ngày tháng: "Tên tỉnh, ngày 05 tháng 01 năm 2024". THAY
  place: "Tên tỉnh"
  # Người ký từng loại văn bản: id người dùng (mục people), chức vụ, và thẩm quyền ký khi
  # không phải người đứng đầu: KT. (ký thay), TL. (thừa lệnh), TUQ. (thừa ủy quyền), Q. (quyền).
  # Loại văn bản: apology_letter (thư xin lỗi), inspection_notice (thông báo kết luận kiểm tra),
  # report (báo cáo). Khai báo người ký ở mục people, rồi xóa "{{}}" và bỏ dấu # bên dưới. THAY
  signers: {{}}
  #   apology_letter:
  #     person: {slug(code)}.bgd.nguyen-van-b
  #     title: "PHÓ GIÁM ĐỐC"
  #     authority: "KT. GIÁM ĐỐC"
  #   inspection_notice: {{person: {slug(code)}.bgd.nguyen-van-a, title: "GIÁM ĐỐC"}}
  # Nơi nhận của từng loại văn bản, mỗi nơi một lần; dòng "Lưu: VT, <đơn vị>" ở cuối (khi bỏ
  # trống: "Lưu: VT, <đơn vị soạn thảo>").
  recipients:
    inspection_notice:
      - "Lãnh đạo cơ quan (để b/c)"  # THAY
      - "Lưu: VT, VP"
    report:
      - "Sở Nội vụ (b/c)"  # THAY
      - "Lưu: VT, VP"

# Ngày nghỉ, ngày làm bù riêng của cơ quan (ngoài lịch nghỉ lễ chung). Ngày ghi YYYY-MM-DD.
calendar:
  days_off: []
  # - {{date: 2024-04-29, reason: "Nghỉ bù"}}
  working_days: []
  # - {{date: 2024-05-04, reason: "Làm bù"}}
"""


def plan_file(org: str, lead_unit: str, year: int, schema: str = SCHEMA_LINE) -> str:
    """A plan skeleton for `org`: its header and one task to copy, to complete."""
    plan_id = f"{slug(org)}-ke-hoach-{year}"
    return f"""\
{schema}
# Kế hoạch: phần đầu văn bản và bảng nhiệm vụ. Các giá trị có ghi "THAY" là giá trị mẫu.
# Kiểm tra sau mỗi lần sửa, cùng tệp cơ quan: planflow plans validate TỆP-CƠ-QUAN.yaml TỆP-NÀY.yaml
kind: plan
# Mã kế hoạch: viết thường không dấu, không trùng với kế hoạch khác. THAY nếu cần
id: {plan_id}
# Mã cơ quan ban hành (như trong tệp cơ quan).
organisation: {org}
# Trích yếu của kế hoạch. THAY
title: "Kế hoạch ... năm {year}"
# Cơ quan ban hành, như trên văn bản. THAY
issuer: "Tên cơ quan"
# Số và ngày ban hành (không bắt buộc), ví dụ:
# number: "105/KH-SKHĐT"
# date: {year}-05-14
# Căn cứ ban hành (không bắt buộc): mỗi văn bản một dòng.
legal_basis: []
# Thời gian thực hiện: ngày bắt đầu và ngày kết thúc, YYYY-MM-DD.
period:
  start: {year}-01-01
  end: {year}-12-31

# Bảng nhiệm vụ: mỗi dòng của bảng một mục.
#   code: số thứ tự trong bảng (ví dụ "1.2" hoặc A.IV.2.1; ghi trong ngoặc kép nếu là số);
#   title: nội dung nhiệm vụ;
#   category: nhóm chỉ số (danh sách: planflow plans schema), ví dụ par.leadership,
#     papi.transparency, sipas.access;
#   lead_unit: mã đơn vị chủ trì; cooperating_units: mã các đơn vị hoặc nhóm phối hợp;
#   schedule: thời hạn, một trong:
#     continuous (thường xuyên), within_year (trong năm), {{by: {year}-06-30}} (trước ngày),
#     {{periodic: quarterly}} (hằng quý; half_yearly: 6 tháng; yearly: hằng năm);
#   schedule_text: thời gian như văn bản ghi (không bắt buộc); deliverable: sản phẩm.
tasks:
  - code: "1"
    title: "Nội dung nhiệm vụ"  # THAY
    category: par.leadership  # THAY
    lead_unit: {lead_unit}  # THAY: mã đơn vị chủ trì
    cooperating_units: []
    schedule: continuous  # THAY
    schedule_text: "Thường xuyên"
    deliverable: "Báo cáo"  # THAY
"""


def this_year() -> int:
    """The current year in Vietnam (UTC+7), where the plans are written."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).year
