"""Freeze a process inside its database transaction, so a test can SIGKILL it right there.

Set PLANFLOW_TEST_PAUSE_ON to the start of a statement (e.g. "INSERT INTO tasks") and
PLANFLOW_TEST_PAUSE_AFTER to N: after the Nth such statement has executed (inside the
transaction, before the commit), the process creates the file PLANFLOW_TEST_PAUSE_MARK and
sleeps. Without PLANFLOW_TEST_PAUSE_ON nothing is installed.

With PLANFLOW_TEST_PAUSE_BEFORE=1 it stops before the Nth statement is sent instead, and
with PLANFLOW_TEST_PAUSE_RESUME=PATH it goes on once that file exists instead of sleeping:
for a statement that is a whole transaction by itself (a move on PostgreSQL), which the test
stops inside on the server (holding a lock the statement needs) once it has been sent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

ON, AFTER, MARK = "PLANFLOW_TEST_PAUSE_ON", "PLANFLOW_TEST_PAUSE_AFTER", "PLANFLOW_TEST_PAUSE_MARK"
BEFORE, RESUME = "PLANFLOW_TEST_PAUSE_BEFORE", "PLANFLOW_TEST_PAUSE_RESUME"


def install() -> None:
    pattern = os.environ.get(ON, "").strip().upper()
    if not pattern:
        return
    nth = int(os.environ.get(AFTER, "1"))
    mark = Path(os.environ[MARK])
    resume = Path(os.environ[RESUME]) if os.environ.get(RESUME) else None
    seen = 0

    def hook(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        nonlocal seen
        if " ".join(statement.split()).upper().startswith(pattern):
            seen += 1
            if seen == nth:
                mark.write_text(f"{os.getpid()} paused at: {statement[:80]}\n")
                deadline = time.monotonic() + 600  # the test kills us before
                while time.monotonic() < deadline and not (resume and resume.exists()):
                    time.sleep(0.01)

    when = "before_cursor_execute" if os.environ.get(BEFORE) else "after_cursor_execute"
    event.listen(Engine, when, hook)
