"""`planflow documents sign FILE...` and `planflow documents verify-signature FILE`: the
organisation's signature on a letter, notice or report file, and checking one.

The key is named by path: `--key` (`PLANFLOW_SIGNING_KEY`): a PKCS#12 file (.p12/.pfx), or a
PEM private key with `--cert` (`PLANFLOW_SIGNING_CERT`); its passphrase, if any, in a file
(`--passphrase-file`, `PLANFLOW_SIGNING_PASSPHRASE_FILE`), never on the command line. A PDF
gets a PAdES signature in a signed copy, `NAME.signed.pdf` (`--detached`: a `.p7s` instead);
any other file a detached CMS signature, `NAME.p7s`. The files signed are left as they were,
so `planflow documents verify` still finds them as recorded.

verify-signature: exit 0 valid; 6 the file was changed after signing, the signature is not
the certificate's or covers part of the file, or (with `--trust`) the certificate does not
chain to a trust root; 2 bad input (no such file, not a signature, a PDF without one).
Neither command opens the database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.terminal import visible
from workflow.errors import InvalidInput
from workflow.lazy import lazy_module

if TYPE_CHECKING:
    from workflow.documents import signing
else:
    signing = lazy_module("workflow.documents.signing")

KEY_ENV = "PLANFLOW_SIGNING_KEY"
CERT_ENV = "PLANFLOW_SIGNING_CERT"
PASSPHRASE_ENV = "PLANFLOW_SIGNING_PASSPHRASE_FILE"
TRUST_ENV = "PLANFLOW_SIGNING_TRUST"


def register(root: typer.Typer) -> None:
    """Adds its commands to the `documents` group, which `documents_cmd` registered first
    (`main.COMMANDS` lists it before this module)."""
    [group] = [g.typer_instance for g in root.registered_groups if g.name == "documents"]
    if group is None:
        raise RuntimeError("register documents_cmd before formats_cmd")
    group.command("sign")(sign)
    group.command("verify-signature")(verify_signature)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: cannot be read: {exc.strerror or exc}") from None


def _write_new(path: Path, data: bytes) -> None:
    try:
        with path.open("xb") as handle:  # never overwrite: a signature is not redone silently
            handle.write(data)
    except FileExistsError:
        raise InvalidInput(f"{path} exists already; move it away to sign again") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be written: {exc.strerror or exc}") from None


def sign(
    files: Annotated[list[Path], typer.Argument(help="The files to sign.")],
    key: Annotated[
        Path | None,
        typer.Option(envvar=KEY_ENV, help="The organisation's key: a .p12/.pfx, or a PEM key."),
    ] = None,
    cert: Annotated[
        Path | None, typer.Option(envvar=CERT_ENV, help="The PEM certificate of a PEM key.")
    ] = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(envvar=PASSPHRASE_ENV, help="A file whose first line is the passphrase."),
    ] = None,
    detached: Annotated[
        bool, typer.Option(help="A PDF too gets a detached NAME.p7s, not a signed copy.")
    ] = False,
) -> None:
    """Sign files with the organisation's key: a PDF as NAME.signed.pdf (PAdES), any other
    file (or a PDF with --detached) as NAME.p7s (detached CMS)."""
    if key is None:
        raise InvalidInput(f"sign needs the organisation's key: --key FILE or {KEY_ENV}")
    signer = signing.load_signer(signing.SigningKey(key, cert, passphrase_file))
    for path in files:
        data = _read(path, "file")
        if path.suffix.lower() == ".pdf" and not detached:
            target = path.with_name(f"{path.stem}.signed.pdf")
            _write_new(target, signing.sign_pdf(data, signer))
        else:
            target = path.with_name(f"{path.name}.p7s")
            _write_new(target, signing.sign_detached(data, signer))
        typer.echo(f"signed {visible(str(path))}: {visible(str(target))}")


def verify_signature(
    file: Annotated[Path, typer.Argument(help="A signed PDF, or the file a .p7s signs.")],
    signature: Annotated[
        Path | None,
        typer.Option(help="Its detached signature; default FILE.p7s when it exists."),
    ] = None,
    trust: Annotated[
        list[Path] | None,
        typer.Option(
            envvar=TRUST_ENV,
            help="PEM trust roots (e.g. the VGCA root) the signer must chain to; repeatable.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Check a signature: exit 0 valid, 6 invalid or tampered, 2 bad input."""
    if fmt not in ("table", "json"):
        raise InvalidInput(f"--format {fmt!r} is not known; use table or json")
    data = _read(file, "file")
    roots = list(trust or [])
    beside = file.with_name(f"{file.name}.p7s")
    if signature is None and beside.is_file():
        signature = beside
    if signature is not None:
        found = [signing.verify_detached(data, _read(signature, "signature"), roots)]
    elif data.startswith(b"%PDF-"):
        found = signing.verify_pdf(data, roots)
    else:
        raise InvalidInput(f"{file} is not a PDF and has no signature: give --signature FILE.p7s")
    if fmt == "json":
        typer.echo(json.dumps([c.as_json() for c in found], ensure_ascii=False, indent=2))
        return
    for c in found:
        trusted = {True: "chains to a trust root given", None: "not checked against a trust "
                   "root (--trust)", False: "untrusted"}[c.trusted]  # fmt: skip
        when = f", signed at {c.signed_at}" if c.signed_at else ""
        typer.echo(
            visible(f"valid {c.kind} signature by {c.signer} (serial {c.serial}{when}); {trusted}")
        )
