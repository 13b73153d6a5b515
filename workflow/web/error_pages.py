"""A failure as a person's browser sees it: a Vietnamese page, not the API's JSON.

A request is a page's when it is not the API's (`/api/...`), nor a static file, and its
browser says it takes HTML (`Accept: text/html`, which every browser sends for a page and
no API client does by default). An htmx request (`HX-Request`) gets the message alone, to
show in place of what it asked for. Written with the standard library's escaping, not the
templates: the last resort for a bug must not depend on what may have failed.
"""

from __future__ import annotations

from html import escape

from starlette.types import Scope

API_PREFIXES = ("/api/", "/static/")

# By status: the page's title and what the person can do about it.
TITLES: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "Hãy quay lại trang trước và thử lại."),
    403: ("Không có quyền", "Tài khoản của bạn không được xem hoặc làm việc này."),
    404: ("Không tìm thấy trang", "Địa chỉ không tồn tại, hoặc bạn không có quyền xem."),
    405: ("Không thực hiện được", "Trang này không nhận yêu cầu theo cách đó."),
    409: ("Không thực hiện được", "Dữ liệu đã thay đổi; hãy tải lại trang rồi thử lại."),
    413: ("Tệp hoặc biểu mẫu quá lớn", "Hãy chia tệp thành nhiều phần nhỏ hơn rồi gửi lại."),
    415: ("Định dạng không được nhận", "Hãy gửi lại bằng biểu mẫu của trang."),
    422: ("Dữ liệu gửi lên không hợp lệ", "Hãy kiểm tra lại các ô đã nhập."),
    429: ("Quá nhiều lần thử", "Hãy đợi vài phút rồi thử lại."),
    500: (
        "Hệ thống gặp lỗi",
        "Lỗi đã được ghi lại trên máy chủ; hãy thử lại sau, và báo cho quản trị viên nếu "
        "lỗi lặp lại.",
    ),
    503: (
        "Hệ thống tạm thời không phục vụ được",
        "Máy chủ chưa kết nối được cơ sở dữ liệu; hãy thử lại sau ít phút.",
    ),
}


def wants_page(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    if path.startswith(API_PREFIXES):
        return False
    accept = _header(scope, b"accept")
    return "text/html" in accept.lower()


def is_htmx(scope: Scope) -> bool:
    return bool(_header(scope, b"hx-request"))


def page(status: int, detail: str | None, htmx: bool) -> bytes:
    """The error page for `status` (its title, what to do, then `detail` when there is one:
    planflow's own one-line message, never a traceback), escaped."""
    title, advice = TITLES.get(status, TITLES[400 if status < 500 else 500])
    said = f"<p>{escape(advice)}</p>"
    if detail:
        said += f"<p>Chi tiết: {escape(detail)}</p>"
    alert = f'<div class="alert error" role="alert"><strong>{escape(title)}</strong>{said}</div>'
    if htmx:
        return alert.encode()
    return (
        '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · planflow</title>\n"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
        '<link rel="stylesheet" href="/static/app.css">\n</head>\n<body>\n'
        '<header class="top"><span class="brand">planflow</span></header>\n'
        f'<main id="main" tabindex="-1">\n<h1>{escape(title)}</h1>\n{alert}\n'
        '<p><a href="/my-work">Về trang Việc của tôi</a></p>\n</main>\n</body>\n</html>\n'
    ).encode()


def too_large(max_bytes: int) -> str:
    """What a refused upload is told: the most the server takes, and who sets it."""
    mb = 1024 * 1024
    size = f"{max_bytes / mb:g} MB" if max_bytes >= mb else f"{max(1, max_bytes // 1024)} KB"
    return (
        f"Máy chủ nhận tối đa {size} mỗi lần gửi (người quản trị đặt giới hạn này bằng "
        "planflow web --max-body)."
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""
