"""A throwaway CA and an organisation's signing certificate, made at test time with
`cryptography` (no key is ever committed): PEM files and a PKCS#12 file in a folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE = b"mat-khau-thu-nghiem"


@dataclass(frozen=True)
class Keys:
    ca_cert: Path  # the trust root (PEM)
    key: Path  # the organisation's key (PEM, encrypted with PASSPHRASE)
    cert: Path  # its certificate (PEM)
    pkcs12: Path  # key, certificate and CA in one file, with PASSPHRASE
    passphrase_file: Path
    other_ca: Path  # a CA that signed nothing here


def _name(common: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _ca(common: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(common, "Thử nghiệm")
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_keys(folder: Path, organisation: str = "Sở Công Thương tỉnh Khánh Hòa") -> Keys:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("CA thử nghiệm planflow")
    _other_key, other_cert = _ca("CA khác")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(organisation, organisation))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = Keys(
        ca_cert=folder / "ca.pem",
        key=folder / "org-key.pem",
        cert=folder / "org-cert.pem",
        pkcs12=folder / "org.p12",
        passphrase_file=folder / "passphrase.txt",
        other_ca=folder / "other-ca.pem",
    )
    paths.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    paths.other_ca.write_bytes(other_cert.public_bytes(pem))
    paths.cert.write_bytes(cert.public_bytes(pem))
    encryption = serialization.BestAvailableEncryption(PASSPHRASE)
    paths.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, encryption))
    paths.pkcs12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"org", key, cert, [ca_cert], encryption)
    )
    paths.passphrase_file.write_bytes(PASSPHRASE + b"\n")
    return paths
