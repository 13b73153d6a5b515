"""Freeze a process inside its database transaction, so a test can SIGKILL it right there.

Set PLANFLOW_TEST_PAUSE_ON to the start of a statement (e.g. "INSERT INTO tasks") and
PLANFLOW_TEST_PAUSE_AFTER to N: after the Nth such statement has executed (inside the
transaction, before the commit), the process creates the file PLANFLOW_TEST_PAUSE_MARK and
sleeps. Without PLANFLOW_TEST_PAUSE_ON nothing is installed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

ON, AFTER, MARK = "PLANFLOW_TEST_PAUSE_ON", "PLANFLOW_TEST_PAUSE_AFTER", "PLANFLOW_TEST_PAUSE_MARK"


def install() -> None:
    pattern = os.environ.get(ON, "").strip().upper()
    if not pattern:
        return
    nth = int(os.environ.get(AFTER, "1"))
    mark = Path(os.environ[MARK])
    seen = 0

    def after(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        nonlocal seen
        if " ".join(statement.split()).upper().startswith(pattern):
            seen += 1
            if seen == nth:
                mark.write_text(f"{os.getpid()} paused after: {statement[:80]}\n")
                time.sleep(600)  # the test kills us here

    event.listen(Engine, "after_cursor_execute", after)
