"""The pages' words, in Vietnamese: names of states, moves and roles, and what a refusal
means. Translation only: which move is allowed, and why not, is the domain's
(`domain.task_moves`); a refusal is explained by the guard that made it."""

from __future__ import annotations

from workflow.domain.lifecycle import (
    HoldsRole,
    LeadUnitMember,
    MakesBusinessMoves,
    Move,
    NewLeadUnit,
    NoteRequired,
    NotTheSubmitter,
    SameAgency,
    State,
)
from workflow.domain.task_moves import Refusal
from workflow.errors import (
    Conflict,
    InvalidInput,
    MoveNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanflowError,
    StoreUnavailable,
    TooManyAttempts,
)

STATES: dict[State, str] = {
    State.ASSIGNED: "Đã giao",
    State.IN_PROGRESS: "Đang thực hiện",
    State.SUBMITTED: "Đã nộp, chờ xác nhận",
    State.VERIFIED: "Đã xác nhận, chờ đóng",
    State.CLOSED: "Đã đóng",
}

MOVES: dict[Move, str] = {
    Move.START: "Bắt đầu thực hiện",
    Move.SUBMIT: "Nộp kết quả",
    Move.RETURN: "Trả lại",
    Move.VERIFY: "Xác nhận",
    Move.CLOSE: "Đóng nhiệm vụ",
    Move.REASSIGN: "Giao lại cho đơn vị khác",
    Move.WITHDRAW: "Rút nhiệm vụ",
}

# What the page says once a move is made (after the redirect: `?done=MOVE`).
DONE: dict[Move, str] = {
    Move.START: "Đã bắt đầu thực hiện nhiệm vụ.",
    Move.SUBMIT: "Đã nộp kết quả; nhiệm vụ chờ văn phòng xác nhận.",
    Move.RETURN: "Đã trả lại nhiệm vụ cho đơn vị chủ trì.",
    Move.VERIFY: "Đã xác nhận kết quả; nhiệm vụ chờ lãnh đạo đóng.",
    Move.CLOSE: "Đã đóng nhiệm vụ.",
    Move.REASSIGN: "Đã giao lại nhiệm vụ cho đơn vị mới.",
    Move.WITHDRAW: "Đã rút nhiệm vụ.",
}

# The label of a move's note, by the move (the note the lifecycle requires, or an optional one).
NOTE_LABELS: dict[Move, str] = {
    Move.SUBMIT: "Ghi chú: kết quả đã thực hiện (bắt buộc)",
    Move.RETURN: "Lý do trả lại (bắt buộc)",
    Move.REASSIGN: "Lý do giao lại (bắt buộc)",
    Move.WITHDRAW: "Lý do rút nhiệm vụ (bắt buộc)",
}

ROLES: dict[str, str] = {
    "staff": "chuyên viên",
    "unit_head": "trưởng phòng",
    "office": "văn phòng",
    "leader": "lãnh đạo",
    "inspector": "thanh tra",
    "auditor": "kiểm toán",
    "admin": "quản trị",
}

# Kinds of task (`tasks.kind`): a plan's row, an inspection's, the fix an inspection asked
# for; any other (a one-off task) is shown as given.
KINDS: dict[str, str] = {
    "plan": "Nhiệm vụ của kế hoạch",
    "inspection": "Kiểm tra",
    "fix": "Khắc phục sau kiểm tra",
    "adhoc": "Nhiệm vụ đột xuất",
}

CHANNELS: dict[str, str] = {
    "web": "trang web",
    "api": "API",
    "cli": "dòng lệnh",
    "flow": "tác vụ tự động",
}

ACTIONS: dict[str, str] = {"task.create": "Tạo nhiệm vụ", **{m.value: MOVES[m] for m in Move}}


def refusal(found: Refusal, submitted_by_name: str | None = None) -> str:
    """Why this person may not make the move, by the guard that refused it."""
    guard = found.guard
    move = MOVES[found.move].lower()
    if isinstance(guard, NotTheSubmitter):
        who = f" ({submitted_by_name})" if submitted_by_name else ""
        return (
            f"Nguyên tắc bốn mắt: bạn{who} là người đã nộp kết quả nhiệm vụ này nên không "
            "thể tự xác nhận. Một thành viên khác của văn phòng phải xác nhận."
        )
    if isinstance(guard, SameAgency):
        return "Nhiệm vụ thuộc cơ quan khác: bạn chỉ thao tác trên nhiệm vụ của cơ quan mình."
    if isinstance(guard, MakesBusinessMoves):
        return "Vai trò của bạn (kiểm toán, quản trị) chỉ xem, không thao tác trên nhiệm vụ."
    if isinstance(guard, LeadUnitMember):
        return f"Chỉ thành viên đơn vị chủ trì mới được {move}."
    if isinstance(guard, HoldsRole):
        roles = " hoặc ".join(ROLES.get(r.value, r.value) for r in sorted(guard.roles))
        return f"Chỉ {roles} mới được {move}."
    if isinstance(guard, NoteRequired):
        return f"Cần nhập {NOTE_LABELS.get(found.move, 'ghi chú').lower()} để {move}."
    if isinstance(guard, NewLeadUnit):
        return "Cần chọn một đơn vị chủ trì khác với đơn vị hiện tại."
    if guard is None and found.move is Move.SUBMIT:
        return "Nhiệm vụ kiểm tra được nộp cùng biên bản kiểm tra, không nộp ở đây."
    return "Bạn không có quyền thực hiện thao tác này."


PASSWORD_PROBLEMS = {
    "the password is too short": "Mật khẩu quá ngắn: cần ít nhất 12 ký tự.",
    "the password is too long": "Mật khẩu quá dài.",
    "the password is on the list": "Mật khẩu này quá phổ biến, dễ bị đoán: hãy chọn mật khẩu khác.",
    "the password contains your login": "Mật khẩu không được chứa tên đăng nhập của bạn.",
    "the new password is the current one": "Mật khẩu mới trùng mật khẩu hiện tại.",
    "the current password is wrong": "Mật khẩu hiện tại không đúng.",
    "this sign-up link is unknown": (
        "Đường dẫn đăng ký không dùng được (sai, đã dùng hoặc đã hết hạn): hãy xin quản trị "
        "viên một đường dẫn mới."
    ),
    "the login or the password is wrong": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "a second factor code is required": (
        "Tài khoản này cần mã xác thực hai lớp: nhập mã 6 số từ ứng dụng xác thực và nhập lại "
        "mật khẩu."
    ),
    "the second factor code is wrong": "Mã xác thực không đúng hoặc đã dùng.",
    "too many failed sign-ins for this login": (
        "Đăng nhập sai quá nhiều lần: tài khoản tạm khóa 15 phút."
    ),
    "too many failed sign-ins from this address": (
        "Quá nhiều lần đăng nhập sai từ địa chỉ này: hãy thử lại sau 15 phút."
    ),
}


def error(exc: PlanflowError) -> str:
    """A service's refusal in Vietnamese: the known ones by their words, else by kind."""
    text = str(exc)
    for start, words in PASSWORD_PROBLEMS.items():
        if text.startswith(start):
            return words
    if "is disabled" in text and isinstance(exc, NotAuthenticated):
        return "Tài khoản đã bị khóa: hãy liên hệ quản trị viên."
    if isinstance(exc, Conflict):
        return "Nhiệm vụ vừa được người khác thay đổi: hãy xem trạng thái mới nhất rồi làm lại."
    if isinstance(exc, NotFound):
        return "Không tìm thấy."
    if isinstance(exc, TooManyAttempts):
        return "Quá nhiều lần thử: hãy thử lại sau."
    if isinstance(exc, MoveNotAllowed):
        return "Trạng thái hiện tại của nhiệm vụ không cho phép thao tác này."
    if isinstance(exc, PermissionDenied):
        return "Bạn không có quyền thực hiện thao tác này."
    if isinstance(exc, NotAuthenticated):
        return "Phiên đăng nhập đã hết: hãy đăng nhập lại."
    if isinstance(exc, StoreUnavailable):
        return "Máy chủ tạm thời không kết nối được cơ sở dữ liệu: hãy thử lại sau ít phút."
    if isinstance(exc, InvalidInput):
        return f"Dữ liệu chưa hợp lệ: {text}"
    return "Không thực hiện được thao tác."
