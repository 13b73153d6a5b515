"""`planflow web`: serve the HTTP API (`workflow.web`) with uvicorn until Ctrl-C.

Loopback by default. To serve people on other machines, put a TLS reverse proxy in front of
it (the README says how) and name the proxy with --forwarded-allow-ips, so that the client
addresses it forwards, and the fact that they came over HTTPS, are believed from it alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from typing import Annotated

import typer

from workflow.cli.runtime import RUNTIME
from workflow.errors import InvalidInput
from workflow.web.settings import DEFAULT_HOST, DEFAULT_PORT, MAX_BODY_BYTES, Settings


def register(root: typer.Typer) -> None:
    root.command("web")(web)


def web(
    host: Annotated[
        str,
        typer.Option(help="Address to listen on (loopback by default: this host only)."),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="The address people reach the API at (sign-up links start with it), e.g. "
            "https://planflow.example.gov.vn behind a proxy. Default: http://HOST:PORT.",
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="Comma-separated addresses or networks of the reverse proxies whose "
            "X-Forwarded-For/-Proto headers are believed. Default: none.",
        ),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1024, help="Largest request body, in bytes.")
    ] = MAX_BODY_BYTES,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Requests worked on at once (the others wait their turn). More than a few "
            "contend for Python's lock on a small machine.",
        ),
    ] = 4,
) -> None:
    """Serve the web pages (sign in at /) and the JSON API under /api/v1 (docs at /api/docs)
    until Ctrl-C."""
    if os.environ.get("PLANFLOW_NOW"):
        raise InvalidInput(
            "planflow web runs on the system's clock: unset PLANFLOW_NOW (the API never "
            "takes its time from the environment or from a request)"
        )
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise InvalidInput(f"--base-url {base_url!r} must start with http:// or https://")
    proxies = tuple(p.strip() for p in (forwarded_allow_ips or "").split(",") if p.strip())
    for proxy in proxies:
        if proxy != "*":
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise InvalidInput(
                    f"--forwarded-allow-ips: {proxy!r} is not an address or a network"
                ) from None
    from workflow.context import Context  # the store: when `web` runs, not with every command
    from workflow.services import database
    from workflow.store.engine import open_engine, resolve_url

    url = resolve_url(RUNTIME.db)
    engine = open_engine(url)
    try:
        mode = database.mode(Context(engine)) or "simulation"  # exit 7 when unreachable
        shown = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    settings = Settings(
        database_url=url,
        host=host,
        port=port,
        base_url=base_url,
        forwarded_allow_ips=proxies,
        max_body_bytes=max_body,
        threads=threads,
        pool_size=threads + 4,
    )
    if not _loopback(host):
        typer.echo(
            f"planflow web: listening on {host}, beyond this host: serve it behind a TLS "
            "reverse proxy (see the README), never plain HTTP to other machines",
            err=True,
        )
    typer.echo(
        f"planflow web: pages at {settings.public_url}/, API at {settings.public_url}/api/v1 "
        f"(docs: {settings.public_url}/api/docs), "
        f"{mode} database {shown}; Ctrl-C to stop",
        err=True,
    )
    serve(settings)
    typer.echo("planflow web stopped", err=True)


def serve(settings: Settings) -> None:
    """Run the app with uvicorn on the settings' address until stopped (Ctrl-C). The
    socket is bound here first, so that an address in use is one clear line (exit 2), not
    uvicorn's exit. The proxy headers are the app's business (`workflow.web.app`):
    uvicorn's own handling of them is off."""
    import uvicorn

    from workflow import logs
    from workflow.web.app import create_app

    logs.verbose()  # a server's operator watches its console: its events are shown there
    listening = _bind(settings.host, settings.port)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        access_log=False,  # the app logs one `http.request` event per request
        log_level="warning",
    )
    # uvicorn shuts down gracefully on Ctrl-C, then raises the signal again for whoever
    # runs it: here, a normal stop.
    with listening, contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[listening])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # that say they are TCP; without it every answer waited ~40 ms for the client's ACK.
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as exc:
        listening.close()
        raise InvalidInput(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port "
            "or --host"
        ) from None
    listening.set_inheritable(True)
    return listening


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
