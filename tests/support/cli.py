"""`planflow` as a real process, with the optional pause hook (see pause.py)."""

from __future__ import annotations

import sys

from tests.support import pause
from workflow.cli.main import run

if __name__ == "__main__":
    pause.install()
    sys.exit(run(sys.argv[1:]))
