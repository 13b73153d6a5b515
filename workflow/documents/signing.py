"""Signatures on the documents planflow writes, with the organisation's key, and checking them.

- A PDF gets a PAdES signature (pyHanko): a signed copy beside it, `NAME.signed.pdf`, which
  Acrobat, Foxit or VGCA's tools show as signed. The PDF planflow recorded stays as it was
  (`planflow documents verify` keeps checking it byte for byte): the signature is added as
  an incremental update over exactly those bytes.
- Any file (DOCX, XLSX, HTML, JSON, CSV, a PDF too with `detached=True`) gets a detached CMS
  signature (PKCS#7, SHA-256), `NAME.p7s`, over its bytes as they are.

The key is the organisation's, named by path (`SigningKey`): a PKCS#12 file (.p12/.pfx, its
chain inside), or a PEM private key with its PEM certificate; a passphrase, when the key has
one, is read from a file, never from the command line. A USB token (PKCS#11: VGCA's tokens)
would replace `SimpleSigner` by pyHanko's `PKCS11Signer` (docs/documents-formats.md).

Checking (`verify`): the signature must be intact (the bytes hash to what was signed and the
signature is the certificate's key's) and, for a PDF, cover the whole file (bytes appended
after it are an unsigned change). With trust roots given, the signer's certificate must
chain to one of them, and be valid at the signing time; without, the result says who the
certificate names and that it was not checked against a trust root. No network is used: no
revocation list or OCSP responder is fetched (a VGCA deployment would add them).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from workflow.errors import InvalidInput, SignatureInvalid

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

CERT_ENV = "PLANFLOW_SIGNING_CERT"  # named in a message; the CLI reads it (`formats_cmd`)
FIELD_NAME = "planflow"  # the PDF signature field's name
PKCS12_SUFFIXES = (".p12", ".pfx")
# pyHanko logs a traceback for every certificate path it cannot build; the result says it.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Path
    cert: Path | None = None
    passphrase_file: Path | None = None


@dataclass
class Checked:
    """What `verify` found of a valid signature."""

    kind: str  # pades, cms
    signer: str  # the certificate's subject, as people read it
    serial: str
    signed_at: str | None  # the signing time the signature claims (not a timestamp)
    trusted: bool | None  # None: no trust root was given

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "kind": self.kind,
            "signer": self.signer,
            "serial": self.serial,
            "signed_at": self.signed_at,
            "trusted": self.trusted,
        }


# ----------------------------------------------------------------------------- signing


def load_signer(key: SigningKey) -> SimpleSigner:
    """The organisation's signer from its files; a missing or unreadable key is exit 2."""
    from pyhanko.sign import signers

    for path in (key.key, key.cert, key.passphrase_file):
        if path is not None and not path.is_file():
            raise InvalidInput(f"signing key: {path} is not a file")
    passphrase = None
    if key.passphrase_file is not None:
        lines = key.passphrase_file.read_bytes().splitlines()
        passphrase = lines[0] if lines else b""
    try:
        if key.key.suffix.lower() in PKCS12_SUFFIXES:
            signer = signers.SimpleSigner.load_pkcs12(key.key, passphrase=passphrase)  # type: ignore[no-untyped-call]
        else:
            if key.cert is None:
                raise InvalidInput(
                    f"signing key {key.key} is a PEM key: name its certificate too "
                    f"(--cert or {CERT_ENV}), or use a PKCS#12 file (.p12, .pfx)"
                )
            signer = signers.SimpleSigner.load(key.key, key.cert, key_passphrase=passphrase)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, OSError) as exc:
        raise InvalidInput(f"signing key {key.key} cannot be read: {exc}") from None
    if signer is None:  # pyHanko logs why and returns None (a wrong passphrase, a bad file)
        raise InvalidInput(
            f"signing key {key.key} cannot be read (a wrong passphrase, or not a key and "
            "certificate pyHanko can load)"
        )
    return cast("SimpleSigner", signer)


def sign_pdf(pdf: bytes, signer: SimpleSigner, *, name: str | None = None) -> bytes:
    """`pdf` with a PAdES signature appended (an incremental update: the bytes before it are
    `pdf`'s, unchanged)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    except Exception as exc:  # pyHanko's parser raises its own errors, and ValueErrors
        raise InvalidInput(f"not a PDF pyHanko can sign: {exc}") from None
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        name=name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


def sign_detached(data: bytes, signer: SimpleSigner) -> bytes:
    """A detached CMS signature (DER, `.p7s`) over `data`."""
    import asyncio

    content_info = asyncio.run(signer.async_sign_general_data(data, "sha256", detached=True))
    return bytes(content_info.dump())


# ----------------------------------------------------------------------------- checking


def _context(trust: Sequence[Path]) -> Any:
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko_certvalidator import ValidationContext

    if not trust:  # the signature alone: intact, and the certificate's key's
        return ValidationContext(trust_roots=[], allow_fetching=False)
    for path in trust:
        if not path.is_file():
            raise InvalidInput(f"trust root {path} is not a file")
    roots = list(load_certs_from_pemder([str(p) for p in trust]))  # type: ignore[no-untyped-call]
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def verify_pdf(pdf: bytes, trust: Sequence[Path] = ()) -> list[Checked]:
    """Every signature embedded in `pdf`, checked; the first that fails raises."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as exc:  # a file that is not a PDF, or one broken past reading
        raise SignatureInvalid(f"not a readable PDF: {exc}") from None
    if not signatures:
        raise InvalidInput(
            "the PDF holds no signature: give its detached signature (--signature FILE.p7s)"
        )
    context = _context(trust)
    found = []
    for embedded in signatures:
        try:
            status = validate_pdf_signature(embedded, context)
        except Exception as exc:  # a signature too broken to evaluate
            raise SignatureInvalid(f"signature {embedded.field_name!r} is broken: {exc}") from None
        if not status.intact or not status.valid:
            raise SignatureInvalid(
                f"signature {embedded.field_name!r} does not hold: the signed bytes were "
                "changed after signing, or the signature is not the certificate's"
            )
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE and embedded is signatures[-1]:
            raise SignatureInvalid(
                f"signature {embedded.field_name!r} does not cover the whole file: "
                "something was added after it was signed"
            )
        found.append(_checked("pades", status, bool(trust)))
    return found


def verify_detached(data: bytes, signature: bytes, trust: Sequence[Path] = ()) -> Checked:
    """The detached CMS signature `signature` over `data`, checked."""
    import asyncio

    from asn1crypto import cms
    from pyhanko.sign.validation import async_validate_detached_cms

    try:
        info = cms.ContentInfo.load(signature)
        signed = info["content"]
        if info["content_type"].native != "signed_data":
            raise ValueError("not CMS signed data")
        signed.native  # parse it all now: a truncated file fails here, not later  # noqa: B018
    except Exception as exc:
        raise InvalidInput(f"not a CMS signature (.p7s, DER): {exc}") from None
    context = _context(trust)
    try:
        status = asyncio.run(
            async_validate_detached_cms(data, signed, signer_validation_context=context)
        )
    except Exception as exc:
        raise SignatureInvalid(f"the signature cannot be evaluated: {exc}") from None
    if not status.intact or not status.valid:
        raise SignatureInvalid(
            "the signature does not hold: the file was changed after it was signed, or the "
            "signature is not the certificate's"
        )
    return _checked("cms", status, bool(trust))


def _checked(kind: str, status: Any, with_trust: bool) -> Checked:
    cert = status.signing_cert
    trusted = bool(status.trusted) if with_trust else None
    if trusted is False:
        raise SignatureInvalid(
            f"the signature is intact, but its certificate ({cert.subject.human_friendly}) "
            "does not chain to a trust root given (or was not valid when it signed)"
        )
    signed_at = status.signer_reported_dt
    return Checked(
        kind=kind,
        signer=cert.subject.human_friendly,
        serial=format(cert.serial_number, "x"),
        signed_at=signed_at.astimezone(dt.UTC).isoformat() if signed_at else None,
        trusted=trusted,
    )
