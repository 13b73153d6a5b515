"""The temporary Prefect server of a flow run started from the command line, which dies with
the command however it ends.

Without PREFECT_API_URL, Prefect would start its own temporary server (a uvicorn process of
~200 MB on a loopback port) and stop it at exit, from an `atexit` hook: a command killed by
SIGKILL (the OOM killer, `kill -9`) or SIGTERM (a service manager, a timeout) never runs it,
and the server was left running, for good. Here planflow starts the server instead, as a
child that asks Linux to kill it when its parent dies (`prctl(PR_SET_PDEATHSIG, SIGKILL)`,
which holds whatever kills the parent), and points Prefect at it. While the flow runs,
SIGTERM ends the command: the server stopped, one line, exit 143 (128 + SIGTERM).

With PREFECT_API_URL set (a real server, the tests' harness) nothing is started here.

Run as `python -m flows.temporary_server PARENT_PID PORT`, this module is the server; as
`... exec PARENT_PID COMMAND...`, it runs COMMAND so that it dies with PARENT_PID (the local
server `planflow serve` starts).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import httpx

from flows.settings import quiet_prefect
from workflow.errors import ServiceUnavailable, Stopped

START_SECONDS = 120  # a cold start on a busy 2-core machine takes ~10 s; migrations more
DRAIN_SECONDS = 5
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STARTS = 3  # the port picked may be taken meanwhile: the server then exits, and is retried
STOPPED = (
    "stopped by SIGTERM while the flow ran; its temporary Prefect server is stopped. What "
    "it committed is kept; run the same command again to finish"
)


@contextmanager
def for_this_run() -> Iterator[None]:
    """Prefect's API for the flow runs inside: PREFECT_API_URL's, or a temporary server of
    planflow's own, stopped on the way out (SIGTERM included) and killed by the kernel if
    this process dies first. Prefect must be imported after `flows.settings` applied
    planflow's defaults (the CLI's `_prefect_ready`)."""
    quiet_prefect()  # Prefect reads its settings when first imported
    from prefect.exceptions import TerminationSignal
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    previous = _handle_sigterm(_stop)
    server: subprocess.Popen[bytes] | None = None
    try:
        if get_current_settings().api.url:
            yield
            return
        server, url = _start()
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    except TerminationSignal:
        # Prefect's own SIGTERM handler, while a flow runs: it records the run as crashed
        # and signals again, to us; should it not reach us, this is the same stop.
        raise Stopped(STOPPED) from None
    finally:
        _handle_sigterm(previous)
        if server is not None:
            _drain_to(server)
            _end(server)


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise Stopped(STOPPED)


Handler = Callable[[int, FrameType | None], Any] | int | None


def _handle_sigterm(handler: Handler) -> Handler:
    """Install `handler` for SIGTERM, returning the one it replaces; nothing off the main
    thread (Python lets only the main thread set handlers)."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, handler)
    return previous


def _start() -> tuple[subprocess.Popen[bytes], str]:
    """The server on a free loopback port, healthy; ServiceUnavailable if it does not come up.

    Started from the main thread, as the commands run: the kernel's "parent died" is the
    death of the thread that started the child."""
    deadline = time.monotonic() + START_SECONDS
    for _ in range(STARTS):
        port = _free_port()
        url = f"http://127.0.0.1:{port}/api"
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.temporary_server", str(os.getpid()), str(port)],
            stdout=subprocess.DEVNULL,  # stdout is the command's (its JSON): never the server's
        )
        try:
            while server.poll() is None and time.monotonic() < deadline:
                if _healthy(url):
                    return server, url
                time.sleep(0.1)
        except BaseException:  # SIGTERM meanwhile (`Stopped`), Ctrl-C
            _end(server)
            raise
        _end(server)
        if time.monotonic() >= deadline:
            break
    raise ServiceUnavailable(
        "the temporary Prefect server did not start; set PREFECT_API_URL to a running Prefect "
        "server (`prefect server start`)"
    )


def _drain_to(server: subprocess.Popen[bytes]) -> None:
    """Send Prefect's queued logs and events while their server is still there (Prefect's
    own server is stopped at exit, after them; ours is stopped before exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    if server.poll() is None:
        for worker in (APILogWorker, EventsWorker):
            worker.drain_all(timeout=DRAIN_SECONDS, at_exit=False)


def _end(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this process when `parent` dies; exit now if it already has
    (it may have died before the request was made). Linux only: elsewhere the server is
    stopped by the command, as Prefect's own is (not after a SIGKILL)."""
    libc_name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)


def serve(parent: int, port: int) -> None:
    """The server itself: Prefect's API without its UI and background services, as
    Prefect's own temporary server runs (`create_app(ephemeral=True)`)."""
    _die_with(parent)
    import uvicorn
    from prefect.server.api.server import create_app

    app = create_app(ephemeral=True, final=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")


def dying_with_this_process(command: list[str]) -> list[str]:
    """`command`, run so that it dies with this process (`planflow serve`'s local server):
    the kernel's request is made, then the command replaces the process (it survives exec)."""
    return [sys.executable, "-m", "flows.temporary_server", "exec", str(os.getpid()), *command]


def _exec(parent: int, command: list[str]) -> None:
    _die_with(parent)
    os.execv(command[0], command)


if __name__ == "__main__":
    if sys.argv[1] == "exec":
        _exec(int(sys.argv[2]), sys.argv[3:])
    else:
        serve(int(sys.argv[1]), int(sys.argv[2]))
