"""A file sent from a page's form: the fields of a multipart/form-data body, read with the
standard library's MIME parser (the pages need no multipart package), each file's name made
safe to show and to write."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP


def multipart(body: bytes, content_type: str, default_name: str) -> dict[str, tuple[bytes, str]]:
    """Each field's bytes and its file name (`default_name` when it has none): nothing when
    the body is not multipart/form-data."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    out: dict[str, tuple[bytes, str]] = {}
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return out
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        field = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(field, str) and isinstance(payload, bytes):
            out[field] = (payload, safe_name(part.get_filename(), default_name))
    return out


def safe_name(raw: str | None, default: str) -> str:
    """The last part of a sent file name, kept to letters, digits and `._- ` (no folder, no
    leading dot), at most 100 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isalnum() or c in "._- ").strip(" .")[:100]
    return name or default
