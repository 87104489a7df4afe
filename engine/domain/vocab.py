"""The case vocabulary, defined once: statuses, event kinds, roles and step kinds.

Everything that compares a status, names an event or checks a role group imports it from here, so a
new status group or event kind is added in one place and the type checker finds every reader.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Status(IntEnum):
    """The national dossier status catalogue (DVCQG ``TrangThai``, ../shared/domain/statuses.md)."""

    NEW = 1
    RECEIVED = 2
    REFUSED = 3
    PROCESSING = 4
    SUPPLEMENT = 5
    FEE = 6
    WITHDRAWAL_REQUESTED = 7
    STOPPED = 8
    DONE = 9
    RETURNED = 10

    @property
    def label(self) -> str:
        return STATUS_LABELS[int(self)]


STATUS_LABELS: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}

#: A case in one of these has ended without (3, 8) or after (10) handing over a result.
TERMINAL = frozenset({Status.REFUSED, Status.STOPPED, Status.RETURNED})
#: Ended without a result: the dossier is closed at once (finished and completed).
CLOSED_WITHOUT_RESULT = frozenset({Status.REFUSED, Status.STOPPED})
#: Waiting for the applicant: documents (5) or a fee (6); the statutory clock may stand still.
WAITING_FOR_APPLICANT = frozenset({Status.SUPPLEMENT, Status.FEE})
#: A withdrawal can no longer be asked for in these.
NOT_WITHDRAWABLE = frozenset(
    {Status.REFUSED, Status.WITHDRAWAL_REQUESTED, Status.STOPPED, Status.DONE, Status.RETURNED}
)
#: A citizen may upload files while submitting or supplementing.
CITIZEN_UPLOAD = frozenset({Status.NEW, Status.SUPPLEMENT})


def label(status: int | None) -> str:
    """The national label of a status code ('' for an unknown one)."""
    return STATUS_LABELS.get(int(status), "") if status is not None else ""


class EventKind(StrEnum):
    """Every kind of event a case history can hold."""

    # inputs: something done to the case; each starts one operation
    CASE_STARTED = "case_started"
    TASK_COMPLETED = "task_completed"
    TIMER_FIRED = "timer_fired"
    APOLOGY_ISSUED = "apology_issued"
    SLA_BREACH = "sla_breach"
    DOCUMENT_ADDED = "document_added"
    TASK_CLAIMED = "task_claimed"
    TASK_RELEASED = "task_released"
    TASK_REASSIGNED = "task_reassigned"
    FEE_PAID = "fee_paid"
    RESULT_ATTACHED = "result_attached"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    WITHDRAWAL_CONFIRMED = "withdrawal_confirmed"
    IDENTITY_CHECKED = "identity_checked"
    IDENTITY_OVERRIDDEN = "identity_overridden"
    DOCUMENT_DIGITISED = "document_digitised"
    # payload {document_id, document_code, item_id, sha256, ...}: a component taken from the
    # citizen's data store (an earlier dossier's digitised file or result) instead of a new upload
    DOCUMENT_REUSED = "document_reused"
    SECRET_REISSUED = "secret_reissued"  # payload {}: the desk issued a new lookup secret
    # payload {reason}: a head of department allows one more supplementation request (procedures whose
    # motcua:procedure repeatSupplement="head_approval"; otherwise a second request is refused)
    SUPPLEMENT_APPROVED = "supplement_approved"
    # payload {day, change, basis, receipt_due_at?, task_dues, appointment_on_day_off}: a day off or a
    # make-up day was declared; the open case's receipt deadline and step dues under the new calendar
    CALENDAR_CHANGED = "calendar_changed"
    # derived: what the rules conclude from an input
    STATUS_CHANGED = "status_changed"
    DUE_SET = "due_set"
    CLOCK_PAUSED = "clock_paused"
    CASE_FINISHED = "case_finished"
    TASK_READY = "task_ready"
    TASK_CANCELLED = "task_cancelled"
    CASE_COMPLETED = "case_completed"


INPUT_KINDS = frozenset(
    {
        EventKind.CASE_STARTED,
        EventKind.TASK_COMPLETED,
        EventKind.TIMER_FIRED,
        EventKind.APOLOGY_ISSUED,
        EventKind.SLA_BREACH,
        EventKind.DOCUMENT_ADDED,
        EventKind.TASK_CLAIMED,
        EventKind.TASK_RELEASED,
        EventKind.TASK_REASSIGNED,
        EventKind.FEE_PAID,
        EventKind.RESULT_ATTACHED,
        EventKind.WITHDRAWAL_REQUESTED,
        EventKind.WITHDRAWAL_CONFIRMED,
        EventKind.IDENTITY_CHECKED,
        EventKind.IDENTITY_OVERRIDDEN,
        EventKind.DOCUMENT_DIGITISED,
        EventKind.DOCUMENT_REUSED,
        EventKind.SECRET_REISSUED,
        EventKind.SUPPLEMENT_APPROVED,
        EventKind.CALENDAR_CHANGED,
    }
)
DERIVED_KINDS = frozenset(EventKind) - INPUT_KINDS

#: Why an apology letter (Mẫu 04) was issued (``apology_issued.kind``): only ``late`` makes the dossier
#: late; a mistake in receipt or handling (plan 003) and a printed appointment that a calendar change
#: put on a day off are apologised for without lateness.
APOLOGY_KINDS: dict[str, str] = {
    "late": "Quá thời hạn giải quyết",
    "mistake": "Sai sót trong tiếp nhận, giải quyết hồ sơ",
    "calendar": "Ngày hẹn trả rơi vào ngày nghỉ do điều chỉnh lịch làm việc",
}
#: Board flags raised by the rules (``cases.sla.flags``).
FLAG_LABELS: dict[str, str] = {
    "receipt_overdue": "Quá 8 giờ làm việc chưa tiếp nhận",
    "overdue": "Quá hạn giải quyết",
    "repeat_supplement": "Yêu cầu bổ sung lần thứ hai (đã được lãnh đạo phòng phê duyệt)",
    "appointment_on_day_off": "Ngày hẹn trả đã in rơi vào ngày nghỉ — cần hẹn lại (Mẫu 04)",
}

#: Why a due date was set or moved (``due_set.reason``); extensions add ``extended_<field>``.
DUE_REASONS = ("accepted", "supplemented_restart", "supplemented_extend", "paid_extend")


class Role(StrEnum):
    """Staff roles (and the two actors that are not staff)."""

    DESK_CLERK = "desk_clerk"
    SPECIALIST = "specialist"
    HEAD_OF_DEPARTMENT = "head_of_department"
    DIRECTOR = "director"
    OTHER_DEPARTMENT = "other_department"
    DESIGNER = "designer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    CITIZEN = "citizen"


ROLE_LABELS: dict[str, str] = {
    Role.DESK_CLERK: "Cán bộ tiếp nhận (một cửa)",
    Role.SPECIALIST: "Chuyên viên",
    Role.HEAD_OF_DEPARTMENT: "Lãnh đạo phòng",
    Role.DIRECTOR: "Lãnh đạo Sở",
    Role.OTHER_DEPARTMENT: "Phòng/đơn vị phối hợp",
    Role.DESIGNER: "Người thiết kế quy trình",
    Role.AUDITOR: "Kiểm tra viên",
    Role.ADMIN: "Quản trị hệ thống",
}

#: Case workers: the staff who receive, process and decide dossiers (not designers, auditors, admins).
CASE_STAFF = frozenset(
    {Role.DESK_CLERK, Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR, Role.OTHER_DEPARTMENT}
)
#: Who may hold a step of a procedure (``motcua:step role``); lanes are named after these.
STEP_ROLES = CASE_STAFF | {Role.CITIZEN}
#: Leaders: reassign and release anyone's step in their unit, confirm a withdrawal, read reports.
LEADERS = frozenset({Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR})
#: Staff who may attach files to a dossier.
DOCUMENT_STAFF = frozenset(
    {Role.DESK_CLERK, Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR, Role.OTHER_DEPARTMENT}
)
#: Staff who issue a result.
RESULT_ISSUERS = frozenset({Role.DESK_CLERK, Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR})
#: Who records a withdrawal request (the citizen online, or the desk on the citizen's behalf).
WITHDRAWAL_REQUESTERS = frozenset({Role.CITIZEN, Role.DESK_CLERK})
#: Who confirms a withdrawal (processing stops).
WITHDRAWAL_CONFIRMERS = frozenset({Role.DESK_CLERK, Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR})
#: The one-stop desk's roles (reports count what happens outside them as processing).
DESK_ROLES = frozenset({Role.DESK_CLERK, Role.CITIZEN})


class StepKind(StrEnum):
    """What a user task does in a procedure (``motcua:step kind``); an unmarked step is processing.
    Lint, the designer's side form (served to it by the web app), assignment and reports read this."""

    RECEIPT = "receipt"
    RETURN = "return"


STEP_KIND_LABELS: dict[str, str] = {
    "": "Bước xử lý",
    StepKind.RECEIPT: "Tiếp nhận (ngoài thời hạn xử lý)",
    StepKind.RETURN: "Trả kết quả",
}
#: Steps at the desk happen outside the statutory processing clock.
DESK_STEP_KINDS = frozenset({StepKind.RECEIPT, StepKind.RETURN})
