"""Typed specs of the YAML files in definitions/: the format agencies write and maintain.

Two kinds of file, told apart by their `kind:` key: an organisation (the agency, its units,
groups, people, calendar overrides) and a plan (its header and its task table).
Cross-references (a unit named by a plan exists, ...) are checked in `references.py`: these
models only check each file on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from workflow.domain.roles import Role

CODE_PATTERN = r"^[A-Z][A-Z0-9_-]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
TASK_CODE_PATTERN = r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$"


class Spec(BaseModel):
    """Strict base: unknown keys are mistakes (a misspelt key must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


NonEmpty = Annotated[str, Field(min_length=1)]


# ---------------------------------------------------------------- organisation


class UnitSpec(Spec):
    code: Annotated[str, Field(pattern=CODE_PATTERN, description="Short code, e.g. HCTH")]
    name: NonEmpty
    illustrative: bool = Field(
        default=False, description="True when the seed does not name this unit and it was assumed"
    )


class GroupSpec(Spec):
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    name: NonEmpty
    units: list[str] | Literal["all"] = Field(
        description="Unit codes, or `all` for every unit of the organisation"
    )


class PersonSpec(Spec):
    id: Annotated[str, Field(pattern=SLUG_PATTERN, description="Stable login-like id")]
    name: NonEmpty
    unit: str
    roles: Annotated[list[Role], Field(min_length=1)]
    illustrative: bool = False


class DayNote(Spec):
    date: dt.date
    reason: NonEmpty


class CalendarOverrides(Spec):
    days_off: list[DayNote] = Field(default_factory=list, description="Extra days off")
    working_days: list[DayNote] = Field(
        default_factory=list, description="Extra working days (e.g. a swapped Saturday)"
    )


class InspectionSpec(Spec):
    """Who inspects whom, how often, how much (PAR INDEX: at least 30% of units a period)."""

    unit: str = Field(description="Code of the inspection team (leads the inspection tasks)")
    units: str | list[str] = Field(
        default="all",
        description="The units inspected: a group code, a list of unit codes, or `all`; "
        "the inspection team itself is never in it",
    )
    every: Literal["year", "half", "quarter"] = Field(
        default="year", description="The inspection period: a year, a half-year or a quarter"
    )
    ratio: Annotated[float, Field(ge=0.3, le=1)] = Field(
        default=0.3, description="Share of the units inspected each period (at least 0.3)"
    )
    signer: str | None = Field(
        default=None, description="Person id of who signs the conclusion notices"
    )
    signer_title: NonEmpty = Field(
        default="THỦ TRƯỞNG CƠ QUAN",
        description="The signer's title block, e.g. 'KT. TRƯỞNG BAN\\nPHÓ TRƯỞNG BAN'",
    )


class SecuritySpec(Spec):
    """How the organisation's people sign in."""

    second_factor: list[Role] = Field(
        default_factory=list,
        description="Roles whose holders must sign in with a second factor (TOTP code), "
        "e.g. [office, leader, admin]",
    )


ABBREVIATION_PATTERN = r"^[A-ZĐ][A-ZĐ0-9&-]*$"
AUTHORITY_PATTERN = r"^(KT|TL|TUQ|Q)\. \S.*$"
DOCUMENT_KINDS = ("apology_letter", "inspection_notice", "report")


class SignerSpec(Spec):
    """Who signs one kind of document, and under which title (Nghị định 30/2020, Phụ lục I)."""

    person: str = Field(description="Person id of the signer (a person of the organisation)")
    title: NonEmpty = Field(description="The signer's own title, e.g. 'PHÓ GIÁM ĐỐC'")
    authority: Annotated[str, Field(pattern=AUTHORITY_PATTERN)] | None = Field(
        default=None,
        description="When the signer is not the head: KT. (ký thay), TL. (thừa lệnh), TUQ. "
        "(thừa ủy quyền) or Q. (quyền) and the head's title, e.g. 'KT. GIÁM ĐỐC'",
    )


class SignersSpec(Spec):
    apology_letter: SignerSpec | None = Field(
        default=None, description="Signs the apology letters (Mẫu số 04)"
    )
    inspection_notice: SignerSpec | None = Field(
        default=None, description="Signs the inspection conclusion notices"
    )
    report: SignerSpec | None = Field(default=None, description="Signs the periodic reports")


class RecipientsSpec(Spec):
    apology_letter: list[NonEmpty] = Field(
        default_factory=list, description="'Nơi nhận' lines of the apology letters"
    )
    inspection_notice: list[NonEmpty] = Field(
        default_factory=list, description="'Nơi nhận' lines of the conclusion notices"
    )
    report: list[NonEmpty] = Field(
        default_factory=list, description="'Nơi nhận' lines of the periodic reports"
    )


class DocumentsSpec(Spec):
    """What the documents the organisation issues carry (Nghị định 30/2020/NĐ-CP)."""

    governing_body: NonEmpty | None = Field(
        default=None,
        description="Printed over the agency's name in the header, e.g. 'UBND TỈNH KHÁNH HÒA'",
    )
    abbreviation: Annotated[str, Field(pattern=ABBREVIATION_PATTERN)] | None = Field(
        default=None,
        description="The official abbreviation (ký hiệu) in document numbers: 15/TB-SCT; "
        "default: the organisation's code",
    )
    place: NonEmpty | None = Field(
        default=None,
        description="The place name (địa danh) before the date: 'Khánh Hòa, ngày 05 tháng 01 "
        "năm 2024'; default: the province",
    )
    signers: SignersSpec = Field(
        default_factory=SignersSpec, description="Who signs each kind of document"
    )
    recipients: RecipientsSpec = Field(
        default_factory=RecipientsSpec,
        description="'Nơi nhận' of each kind of document, each once; 'Lưu: VT, <unit>' last",
    )


class OrganisationSpec(Spec):
    kind: Literal["organisation"]
    code: Annotated[str, Field(pattern=CODE_PATTERN)]
    name: NonEmpty
    province: NonEmpty
    office_unit: str = Field(description="Code of the coordinating office (role office)")
    units: Annotated[list[UnitSpec], Field(min_length=1)]
    groups: list[GroupSpec] = Field(default_factory=list)
    people: list[PersonSpec] = Field(default_factory=list)
    calendar: CalendarOverrides = Field(default_factory=CalendarOverrides)
    inspection: InspectionSpec | None = None
    oversees: list[str] | Literal["all"] = Field(
        default_factory=list,
        description="Organisations whose tasks, log and documents this one's people may read "
        "(a province-level body, e.g. the Department of Home Affairs): codes, or `all`",
    )
    security: SecuritySpec = Field(default_factory=SecuritySpec)
    documents: DocumentsSpec | None = Field(
        default=None,
        description="What its letters, notices and reports carry: governing body, "
        "abbreviation, place, signers and recipients per kind of document",
    )
    notes: str | None = None

    def inspected_units(self) -> list[str]:
        """The units an inspection draws from, in file order (team excluded)."""
        if self.inspection is None:
            return []
        chosen = self.inspection.units
        if isinstance(chosen, str) and chosen != "all":
            group = next((g for g in self.groups if g.code == chosen), None)
            chosen = "all" if group is None else group.units
        codes = [u.code for u in self.units] if chosen == "all" else list(chosen)
        return [c for c in codes if c != self.inspection.unit]


# ---------------------------------------------------------------- schedules


class WithinYear(Spec):
    """`Trong năm 2023`: due at the end of that year (or of the plan's period if earlier)."""

    within_year: Annotated[int, Field(ge=1990, le=2100)]


class Periodic(Spec):
    """`Định kỳ`: one task per quarter, half-year or year of the plan's period."""

    periodic: Literal["quarterly", "half_yearly", "yearly"]


class ByDate(Spec):
    """`Trước ngày 15/12/2023`."""

    by: dt.date


class PerSchedule(Spec):
    """`Theo kế hoạch`: per a named schedule declared in the plan's `schedules`."""

    per: Annotated[str, Field(pattern=SLUG_PATTERN)]


ScheduleWord = Literal["continuous", "within_year"]

SCHEDULE_FORMS = (
    "continuous | within_year | {within_year: YEAR} | {periodic: quarterly|half_yearly|yearly}"
    " | {by: YYYY-MM-DD} | {per: SCHEDULE_ID}"
)


def _schedule_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "word"
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in ("within_year", "periodic", "by", "per") else None
    forms: dict[type[Spec], str] = {
        WithinYear: "within_year",
        Periodic: "periodic",
        ByDate: "by",
        PerSchedule: "per",
    }
    return forms.get(type(value))


Schedule = Annotated[
    Annotated[ScheduleWord, Tag("word")]
    | Annotated[WithinYear, Tag("within_year")]
    | Annotated[Periodic, Tag("periodic")]
    | Annotated[ByDate, Tag("by")]
    | Annotated[PerSchedule, Tag("per")],
    Discriminator(
        _schedule_form,
        custom_error_type="schedule_form",
        custom_error_message=f"a schedule is one of: {SCHEDULE_FORMS}",
    ),
]


class NamedSchedule(Spec):
    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: NonEmpty
    dates: list[dt.date] = Field(
        default_factory=list,
        description="One task per date; none: one task due at the end of the plan's period",
    )


# ---------------------------------------------------------------- plan


class Period(Spec):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self


class ReportDeadline(Spec):
    title: NonEmpty = Field(description="e.g. Báo cáo 6 tháng")
    due: dt.date
    recipient: str | None = None


class Section(Spec):
    code: Annotated[str, Field(pattern=TASK_CODE_PATTERN)]
    title: NonEmpty


class TaskSpec(Spec):
    code: Annotated[str, Field(pattern=TASK_CODE_PATTERN, description="e.g. A.IV.2.1")]
    title: NonEmpty
    category: str = Field(description="An index category code: see `planflow plans schema`")
    lead_unit: str
    cooperating_units: list[str] = Field(default_factory=list)
    schedule: Schedule
    schedule_text: str | None = Field(
        default=None, description="The plan's own wording, e.g. `Trong năm 2023`"
    )
    deliverable: str | None = None
    target: str | None = None


class PlanSpec(Spec):
    kind: Literal["plan"]
    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    organisation: str
    title: NonEmpty
    issuer: NonEmpty
    signer: Annotated[str, Field(pattern=SLUG_PATTERN)] | None = Field(
        default=None,
        description="Id of the person who signed the plan (a person of the organisation)",
    )
    number: str | None = Field(default=None, description="e.g. 105/KH-SKHĐT")
    date: dt.date | None = None
    legal_basis: list[NonEmpty] = Field(default_factory=list)
    period: Period
    purposes: list[NonEmpty] = Field(default_factory=list)
    requirements: list[NonEmpty] = Field(default_factory=list)
    report_deadlines: list[ReportDeadline] = Field(default_factory=list)
    schedules: list[NamedSchedule] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    tasks: Annotated[list[TaskSpec], Field(min_length=1)]
    notes: str | None = None


# ---------------------------------------------------------------- procedures and legal rules

PROCEDURE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class ProcedureSpec(Spec):
    code: Annotated[
        str, Field(pattern=PROCEDURE_CODE_PATTERN, description="National TTHC code, e.g. 2.000041")
    ]
    name: NonEmpty
    working_days: Annotated[int, Field(ge=1, le=365, description="Legal processing time")]
    unit: str = Field(description="Code of the unit that handles it")
    cutoff_hour: Annotated[int, Field(ge=0, le=23)] | None = Field(
        default=None, description="Received at or after this hour: counts from the next working day"
    )
    legal_basis: str | None = None
    illustrative: bool = False


class ProceduresSpec(Spec):
    kind: Literal["procedures"]
    organisation: str
    procedures: Annotated[list[ProcedureSpec], Field(min_length=1)]
    notes: str | None = None


class FormSpec(Spec):
    code: NonEmpty = Field(description="e.g. Mẫu số 04")
    title: NonEmpty
    source: NonEmpty = Field(description="The circular that defines the form")


class ApologyRulesSpec(Spec):
    """When and how a late dossier gets its apology: one version per legal regime."""

    kind: Literal["apology_rules"]
    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: NonEmpty
    legal_basis: Annotated[list[NonEmpty], Field(min_length=1)]
    effective_from: dt.date
    notice_working_days: Annotated[int, Field(ge=0, le=30)] = Field(
        description="Letters go out no later than this many working days before the due date"
    )
    max_extensions: Annotated[int, Field(ge=0, le=10)] = Field(
        description="How often the return date may be re-set; past it, dossiers are escalated"
    )
    default_extension_working_days: Annotated[int, Field(ge=1, le=365)] = Field(
        description="New return date when the unit declared no delay"
    )
    form: FormSpec
    apology_text: NonEmpty
    verified: bool = Field(default=True, description="False where the rule is not yet verified")
    notes: str | None = None
