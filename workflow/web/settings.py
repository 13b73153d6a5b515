"""What `planflow web` is configured with: the database, where it listens, whom it trusts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workflow.clock import Clock, SystemClock

DEFAULT_HOST = "127.0.0.1"  # loopback: reachable from this host only, unless told otherwise
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_OUTPUT = Path("output")  # as the CLI's flows write: output/inspections, output/reports


@dataclass(frozen=True)
class Settings:
    """`database_url`: None resolves as the CLI does (PLANFLOW_DB, else planflow.db here).

    `base_url`: the address people reach the API at, from their browsers (the sign-up links
    it prints start with it); default `http://HOST:PORT`. Behind a TLS reverse proxy, the
    proxy's `https://` address.

    `forwarded_allow_ips`: the proxies whose X-Forwarded-For and X-Forwarded-Proto headers
    are believed (addresses or networks; `*` any). From anyone else they are ignored: the
    client's address (which sign-in throttling counts by) is the connection's.

    `secure_cookies`: None marks the session cookie Secure when the request came over HTTPS
    (directly, or through a trusted proxy); True always; False never (plain-HTTP tests).

    `output_dir`: where the documents the API makes are written (conclusion notices under
    `inspections/`, reports under `reports/`), as the CLI's flows write them with `--out`.

    `threads`: how many requests are worked on at once (the others wait their turn);
    more than a few only make them contend for the interpreter's lock.

    `clock`: the system's. Tests of a simulation database may pass another to make sessions
    and tokens age; a production database refuses every write made with any other clock.
    """

    database_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    base_url: str | None = None
    forwarded_allow_ips: tuple[str, ...] = ()
    secure_cookies: bool | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    threads: int = 4  # the worker threads that run the endpoints (`planflow web --threads`)
    pool_size: int = 8  # database connections: one for each worker thread, and spare
    output_dir: Path = DEFAULT_OUTPUT
    clock: Clock = field(default_factory=SystemClock)

    @property
    def public_url(self) -> str:
        """Where people reach the API: `base_url`, else this host and port."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
