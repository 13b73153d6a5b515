"""Browser tests: real Chromium (Debian's `chromium`, which `.ci/run` installs) driven by
Playwright against `planflow web` running as a real process on a loopback port, over
SQLite and PostgreSQL.

Without chromium on the PATH these tests skip on a laptop, and FAIL when CI=true (as the
PostgreSQL leg does). One server per backend and test process (its start-up and the
accounts' password hashing cost seconds), shared by the tests of both modules: each test
makes its own tasks, and a person whose account a test changes (a password, a second
factor, sessions ended, an invitation) is that test's alone. Every page a test reaches is
checked: no console error, and axe-core (vendored, tests/support/vendor/) finds no serious
or critical violation.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, IN_CI, PostgresServer
from tests.e2e.test_api_support import PASSWORD, World, agency, build_world
from workflow.services import organisations as org_service
from workflow.services.tasks import NewTask, create_tasks

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "support" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The people with accounts in every world: SO-A runs the task lifecycle; SO-C's file
# wants a second factor of its office (`second_factor: [office]`).
PEOPLE = (
    "so-a.lan",
    "so-a.hung",
    "so-a.office1",
    "so-a.office2",
    "so-a.leader",
    "so-b.lan",
    "so-c.office1",
)
SERIOUS = ("serious", "critical")


def chromium_path() -> str:
    """Debian's chromium, and Playwright to drive it; else skip (FAIL when CI=true)."""
    found = shutil.which("chromium")
    missing = None
    if found is None:
        missing = "chromium is not installed (Debian: apt-get install chromium; .ci/run does)"
    elif importlib.util.find_spec("playwright") is None:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is not None or found is None:
        message = missing or "chromium is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser tests must run)", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an asyncio
    loop running in the thread while it is started, and the tests of other modules that a
    pytest-xdist worker runs next call asyncio.run() (Prefect's scheduling, for one)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# ----------------------------------------------------------------------------- the server


@dataclass
class Site:
    """`planflow web` on a loopback port, and the test's own hand on its database."""

    backend: str
    url: str
    world: World
    proc: subprocess.Popen[bytes]
    log: Path
    counter: int = 0

    def task(self, title: str, *, org: str = "SO-A", unit: str = "QLDT", **more: Any) -> int:
        """A new task of `org`, led by `unit`, for one test alone."""
        self.counter += 1
        more.setdefault("due_date", dt.date(2030, 6, 30))
        return create_tasks(
            self.world.setup,
            [
                NewTask(
                    organisation=org,
                    code=f"W.{os.getpid()}.{self.counter}",
                    title=title,
                    lead_unit=unit,
                    kind="adhoc",
                    period="2030Q2",
                    **more,
                )
            ],
        )[0]

    def server_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _database(
    request: pytest.FixtureRequest, backend: str, folder: Path
) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        target = folder / "planflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}", lambda: None
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.fresh_database()
    return server.url_for(name), lambda: server.drop(name)


@pytest.fixture(scope="session", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    chromium_path()  # no server started for tests that will skip
    folder = tmp_path_factory.mktemp(f"web-{request.param}")
    url, drop = _database(request, request.param, folder)
    world = build_world(url)
    org_service.upsert_organisation(world.setup, agency("SO-C", second_factor=["office"]))
    for person in PEOPLE:
        world.account(person)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    log = folder / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workflow.cli", "--db", url, "web", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    made = Site(request.param, f"http://127.0.0.1:{port}", world, proc, log)
    try:
        _wait_up(made)
        yield made
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)
        world.close()
        drop()
    log_text = made.server_log()
    # A bug a page hit is answered 500 and logged as `http.error`: none, in any test.
    assert "Traceback" not in log_text and "http.error" not in log_text, log_text


def _wait_up(site: Site, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert site.proc.poll() is None, f"planflow web ended early: {site.server_log()}"
        try:
            if httpx.get(site.url + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"planflow web never answered: {site.server_log()}"
        time.sleep(0.1)


# ----------------------------------------------------------------------------- people


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """What axe-core (loaded into every page of a `people` context) finds serious or
    critical on the page: each rule's id, impact, help and first few elements."""
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


def new_context(browser: Any, viewport: dict[str, int] = VIEWPORT) -> Any:
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    # axe in every page, as the browser's own script (the pages' CSP allows no inline
    # script, which page.add_script_tag would add): the CSP stays on for the pages.
    context.add_init_script(path=str(AXE))
    return context


@dataclass
class Person:
    """One person's browser (a context of their own: cookies, tabs) on the site. Every
    page reached through `go` or `submit` is checked (console, axe)."""

    site: Site
    page: Any
    console: list[str] = field(default_factory=list)

    def go(self, path: str) -> Person:
        self.page.goto(self.site.url + path)
        return self.check()

    def submit(self, button: Any) -> Person:
        """Click a form's button and wait for what it leads to: the next page, or, for a
        form htmx posts, the part it swaps in (its `htmx:afterSettle`)."""
        page = self.page
        if button.evaluate("b => Boolean(b.closest('form[hx-post]'))"):
            page.evaluate(
                """() => {
                    window.__settled = false;
                    document.body.addEventListener(
                        "htmx:afterSettle", () => { window.__settled = true; }, {once: true});
                }"""
            )
            button.click()
            page.wait_for_function("() => window.__settled === true")
        else:
            with page.expect_navigation():
                button.click()
        return self.check()

    def sign_in(self, login: str, password: str = PASSWORD, code: str | None = None) -> Person:
        page = self.page
        if "/sign-in" not in page.url:
            self.go("/sign-in")
        page.get_by_label("Tên đăng nhập").fill(login)
        page.get_by_label("Mật khẩu", exact=True).fill(password)
        if code is not None:
            field_ = page.locator("#code")
            if not field_.is_visible():
                page.get_by_text("Tài khoản của tôi dùng mã xác thực hai lớp").click()
            field_.fill(code)
        return self.submit(page.get_by_role("button", name="Đăng nhập"))

    def text(self) -> str:
        return str(self.page.locator("main").inner_text())

    def check(self) -> Person:
        """No console error so far; axe finds nothing serious or critical on this page."""
        self.page.wait_for_load_state("load")
        assert not self.console, f"console errors on {self.page.url}: {self.console}"
        assert self.page.evaluate("() => document.documentElement.lang") == "vi"
        serious = serious_violations(self.page)
        assert not serious, f"axe on {self.page.url}: {serious}"
        return self

    def screenshot(self, name: str) -> None:
        """docs/screenshots/NAME.png, from the SQLite leg only (one picture per page)."""
        if self.site.backend != "sqlite":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def people(browser: Any, site: Site) -> Iterator[Callable[..., Person]]:
    """`people()`: a new person's browser on the site (`people(PHONE)`: a phone's screen);
    all closed after the test."""
    contexts: list[Any] = []
    made: list[Person] = []

    def open_one(viewport: dict[str, int] = VIEWPORT) -> Person:
        context = new_context(browser, viewport)
        contexts.append(context)
        page = context.new_page()
        person = Person(site, page)
        page.on(
            "console",
            lambda m: (
                person.console.append(f"{m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: person.console.append(f"page error: {e}"))
        made.append(person)
        return person

    yield open_one
    for context in contexts:
        context.close()
    for person in made:
        assert not person.console, person.console
