"""The fixed vocabulary of index categories that group a plan's tasks (GLOSSARY.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    index: str  # PAPI, PAR INDEX or SIPAS
    name: str  # Vietnamese, as reports print it


_PAPI = "PAPI"
_PAR = "PAR INDEX"
_SIPAS = "SIPAS"

CATEGORIES: tuple[Category, ...] = (
    Category("papi.participation", _PAPI, "Tham gia của người dân ở cấp cơ sở"),
    Category("papi.transparency", _PAPI, "Công khai, minh bạch"),
    Category("papi.accountability", _PAPI, "Trách nhiệm giải trình với người dân"),
    Category("papi.anti_corruption", _PAPI, "Kiểm soát tham nhũng trong khu vực công"),
    Category("papi.procedures", _PAPI, "Thủ tục hành chính công"),
    Category("papi.public_services", _PAPI, "Cung ứng dịch vụ công"),
    Category("papi.environment", _PAPI, "Quản trị môi trường"),
    Category("papi.e_governance", _PAPI, "Quản trị điện tử"),
    Category("par.leadership", _PAR, "Công tác lãnh đạo, chỉ đạo"),
    Category("par.communication", _PAR, "Công tác tuyên truyền"),
    Category("par.institutions", _PAR, "Cải cách thể chế"),
    Category("par.procedures", _PAR, "Cải cách thủ tục hành chính"),
    Category("par.organisation", _PAR, "Cải cách tổ chức bộ máy"),
    Category("par.civil_service", _PAR, "Cải cách chế độ công vụ"),
    Category("par.public_finance", _PAR, "Cải cách tài chính công"),
    Category(
        "par.digital_government", _PAR, "Xây dựng và phát triển chính quyền điện tử, chính quyền số"
    ),
    Category("sipas.access", _SIPAS, "Tiếp cận dịch vụ"),
    Category("sipas.procedure_handling", _SIPAS, "Tổ chức giải quyết thủ tục hành chính"),
    Category("sipas.civil_servants", _SIPAS, "Công chức giải quyết thủ tục hành chính"),
    Category("sipas.results", _SIPAS, "Kết quả giải quyết thủ tục hành chính"),
    Category("sipas.feedback", _SIPAS, "Tiếp nhận, xử lý phản ánh, kiến nghị"),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
