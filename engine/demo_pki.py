"""A throw-away certificate authority and agency certificate for demos and tests (never production).

``run.py init-db`` installs one under ``var/pki/`` so ``make run`` can sign electronic results; the
tests make their own. The private key stays in a file beside the certificate, never in the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .esign import SigningConfig

AGENCY = "Sở Giáo dục và Đào tạo (chứng thư thử nghiệm)"
CA = "CA thử nghiệm motcua"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Giáo dục và Đào tạo thử nghiệm"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    start: datetime,
    end: datetime,
) -> x509.Certificate:
    """A CA certificate (``issuer`` None, self-signed) or a signing certificate issued by ``issuer``."""
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    usage = (
        (False, False, False, False, False, True, True, False, False)
        if issuer is None
        else (True, True, False, False, False, False, False, False, False)
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(*usage), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def make_pki(folder: Path, now: datetime, valid_days: int = 1800) -> SigningConfig:
    """Write ``ca.pem``, ``agency.pem`` and ``agency.key`` under ``folder``; the agency certificate is
    valid from 60 days before ``now`` for ``valid_days`` days."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate(CA, ca_key, None, now - timedelta(days=400), now + timedelta(days=3650))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate(AGENCY, key, (CA, ca_key), now - timedelta(days=60), now + timedelta(days=valid_days))
    (folder / "agency.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (folder / "agency.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return SigningConfig(
        cert_path=folder / "agency.pem", key_path=folder / "agency.key", chain_paths=(folder / "ca.pem",)
    )
