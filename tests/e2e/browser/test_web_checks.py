"""The checks every browser test makes on every page can fail: axe-core finds a form field
without a label and an image without a text, and the console's errors are seen."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser.conftest import new_context, serious_violations

FLAWED = """<!doctype html><html lang="vi"><head><title>Trang lỗi</title></head>
<body><main><input type="text" name="q"><img src="/nothing.png"></main></body></html>"""


def test_axe_finds_an_unlabelled_field_and_an_image_without_text(browser: Any) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        page.set_content(FLAWED)
        found = {v["id"] for v in serious_violations(page)}
        assert {"label", "image-alt"} <= found, found
    finally:
        context.close()


def test_a_console_error_is_seen(browser: Any) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        with page.expect_console_message(lambda m: m.type == "error") as seen:
            page.set_content("<html lang='vi'><body><script>console.error('hỏng')</script>")
        assert seen.value.text == "hỏng"
    finally:
        context.close()
