"""The organisation's signature on the documents planflow writes, on SQLite and PostgreSQL:
a letter's and a report's PDF signed (PAdES) with a key named by path, PKCS#12 or PEM, made
at test time under a throwaway CA; the signature checked, against the CA and without it;
a byte changed, bytes appended, another CA: refused. DOCX and XLSX get a detached CMS
signature, checked and refused alike. The recorded files are left as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_document_formats import by_suffix, letters
from tests.support import documents as made
from tests.support.pdf_reading import pdf_text
from tests.support.signing_keys import Keys, make_keys
from workflow.documents import signing
from workflow.errors import InvalidInput, SignatureInvalid
from workflow.services import Context, documents

ORGANISATION = "Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"), ORGANISATION)


def flipped(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def key_files(keys: Keys) -> list[signing.SigningKey]:
    return [
        signing.SigningKey(keys.pkcs12, passphrase_file=keys.passphrase_file),
        signing.SigningKey(keys.key, keys.cert, keys.passphrase_file),
    ]


def check_signed_pdf(pdf: bytes, keys: Keys) -> None:
    for key in key_files(keys):
        signed = signing.sign_pdf(pdf, signing.load_signer(key))
        assert signed.startswith(pdf)  # an incremental update: the PDF's bytes untouched
        assert pdf_text(signed) == pdf_text(pdf)
        [found] = signing.verify_pdf(signed, [keys.ca_cert])
        assert (found.kind, found.trusted) == ("pades", True)
        assert ORGANISATION in found.signer and found.signed_at
        [alone] = signing.verify_pdf(signed)  # no trust root: intact, said to be unchecked
        assert alone.trusted is None
        with pytest.raises(SignatureInvalid, match="does not hold"):
            signing.verify_pdf(flipped(signed, len(pdf) // 2), [keys.ca_cert])
        with pytest.raises(SignatureInvalid, match="does not cover the whole file"):
            signing.verify_pdf(signed + b"\n% appended after signing\n", [keys.ca_cert])
        with pytest.raises(SignatureInvalid, match="does not chain to a trust root"):
            signing.verify_pdf(signed, [keys.other_ca])
    with pytest.raises(InvalidInput, match="holds no signature"):
        signing.verify_pdf(pdf, [keys.ca_cert])


def check_detached(data: bytes, keys: Keys) -> None:
    signer = signing.load_signer(key_files(keys)[0])
    signature = signing.sign_detached(data, signer)
    found = signing.verify_detached(data, signature, [keys.ca_cert])
    assert (found.kind, found.trusted) == ("cms", True) and ORGANISATION in found.signer
    with pytest.raises(SignatureInvalid, match="changed after it was signed"):
        signing.verify_detached(flipped(data, len(data) // 3), signature, [keys.ca_cert])
    with pytest.raises(SignatureInvalid, match="does not chain"):
        signing.verify_detached(data, signature, [keys.other_ca])
    with pytest.raises(InvalidInput, match="not a CMS signature"):
        signing.verify_detached(data, signature[:40], [keys.ca_cert])


def test_a_letter_s_pdf_and_docx_signed_and_checked(
    ctx: Context, tmp_path: Path, keys: Keys
) -> None:
    written = by_suffix(letters(ctx, tmp_path / "output"))
    check_signed_pdf(written[".pdf"][0].read_bytes(), keys)
    check_detached(written[".docx"][0].read_bytes(), keys)
    assert documents.verify(ctx).ok  # signing wrote nothing over the recorded files


def test_a_report_s_pdf_and_xlsx_signed_and_checked(
    ctx: Context, tmp_path: Path, keys: Keys
) -> None:
    written = by_suffix(made.report(ctx, tmp_path / "output"))
    check_signed_pdf(written[".pdf"][0].read_bytes(), keys)
    check_detached(written[".xlsx"][0].read_bytes(), keys)
    assert documents.verify(ctx).ok


def test_a_key_that_cannot_be_read_is_bad_input(tmp_path: Path, keys: Keys) -> None:
    with pytest.raises(InvalidInput, match="is not a file"):
        signing.load_signer(signing.SigningKey(tmp_path / "none.p12"))
    with pytest.raises(InvalidInput, match="name its certificate too"):
        signing.load_signer(signing.SigningKey(keys.key, None, keys.passphrase_file))
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("sai mat khau\n")
    with pytest.raises(InvalidInput, match="cannot be read"):
        signing.load_signer(signing.SigningKey(keys.pkcs12, passphrase_file=wrong))
