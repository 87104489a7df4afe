"""PAdES signing of results with pyHanko, using a CA and certificates generated here (cryptography)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine.clock import FixedClock
from engine.errors import ValidationError
from engine.esign import SigningConfig, SigningError, sign_result, verify_result

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Giáo dục và Đào tạo thử nghiệm"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    start: datetime,
    end: datetime,
) -> x509.Certificate:
    issuer_name, issuer_key = (issuer[0], issuer[1]) if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SigningConfig:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "CA thử nghiệm motcua", ca_key, None, NOW - timedelta(days=400), NOW + timedelta(days=3650)
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(
        "Sở GD&ĐT thử nghiệm",
        key,
        ("CA thử nghiệm motcua", ca_key),
        NOW - timedelta(days=60),
        NOW + timedelta(days=1800),
    )
    (folder / "agency.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"mat-khau"),
        )
    )
    return SigningConfig(
        cert_path=_write(folder / "agency.pem", leaf),
        key_path=folder / "agency.key",
        passphrase=b"mat-khau",
        chain_paths=(_write(folder / "ca.pem", ca),),
    )


def result_pdf(text: str = "Ban sao van bang so 0975") -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def test_signed_result_verifies(pki: SigningConfig) -> None:
    signed = sign_result(result_pdf(), pki, FixedClock(NOW))
    check = verify_result(signed, pki)
    assert check.valid and check.intact and check.trusted and check.covers_whole_file
    assert check.signer is not None and "Sở GD&ĐT thử nghiệm" in check.signer
    assert check.message.startswith("Chữ ký số hợp lệ của")
    assert check.signed_at is not None


def test_tampered_result_fails_verification(pki: SigningConfig) -> None:
    signed = sign_result(result_pdf(), pki, FixedClock(NOW))
    assert signed.count(b"so 0975") == 1
    check = verify_result(signed.replace(b"so 0975", b"so 0976"), pki)
    assert not check.valid and not check.intact
    assert check.message == "Tệp kết quả đã bị sửa sau khi ký: chữ ký số không còn hợp lệ"


def test_untrusted_signer_and_unsigned_file(pki: SigningConfig, tmp_path: Path) -> None:
    signed = sign_result(result_pdf(), pki, FixedClock(NOW))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_root = _certificate("CA khác", other_key, None, NOW - timedelta(days=1), NOW + timedelta(days=9))
    other = replace(pki, trust_root_paths=(_write(tmp_path / "other.pem", other_root),))
    check = verify_result(signed, other)
    assert check.intact and not check.trusted and not check.valid
    assert check.message == "Chứng thư số của người ký không thuộc cơ quan được tin cậy"
    unsigned = verify_result(result_pdf(), pki)
    assert (unsigned.signed, unsigned.valid, unsigned.message) == (
        False,
        False,
        "Tệp kết quả chưa được ký số",
    )


def test_expired_and_not_yet_valid_certificate(pki: SigningConfig) -> None:
    with pytest.raises(SigningError, match="đã hết hạn ngày"):
        sign_result(result_pdf(), pki, FixedClock(NOW + timedelta(days=1801)))
    with pytest.raises(SigningError, match="chưa có hiệu lực"):
        sign_result(result_pdf(), pki, FixedClock(NOW - timedelta(days=61)))


def test_missing_or_broken_signing_material(pki: SigningConfig, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    with pytest.raises(SigningError, match="Chưa cài đặt chứng thư số"):
        sign_result(result_pdf(), SigningConfig(None, None), clock)
    with pytest.raises(SigningError, match="Không tìm thấy tệp chứng thư số"):
        sign_result(result_pdf(), replace(pki, cert_path=tmp_path / "none.pem"), clock)
    with pytest.raises(SigningError, match="sai mật khẩu"):
        sign_result(result_pdf(), replace(pki, passphrase=b"sai"), clock)
    assert pki.chain_paths
    with pytest.raises(SigningError, match="không khớp với chứng thư số"):
        sign_result(result_pdf(), replace(pki, cert_path=pki.chain_paths[0]), clock)
    (tmp_path / "bad.pem").write_bytes(b"not a certificate")
    with pytest.raises(SigningError, match="không đúng định dạng"):
        sign_result(result_pdf(), replace(pki, cert_path=tmp_path / "bad.pem"), clock)


def test_only_pdf_results_are_signed(pki: SigningConfig) -> None:
    with pytest.raises(ValidationError, match="phải là PDF"):
        sign_result(b"\x89PNG\r\n\x1a\n", pki, FixedClock(NOW))
    assert verify_result(b"%PDF-1.7 broken", pki).signed is False


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch, pki: SigningConfig) -> None:
    assert pki.cert_path and pki.key_path
    monkeypatch.setenv("MOTCUA_SIGNING_CERT", str(pki.cert_path))
    monkeypatch.setenv("MOTCUA_SIGNING_KEY", str(pki.key_path))
    monkeypatch.setenv("MOTCUA_SIGNING_KEY_PASSPHRASE", "mat-khau")
    monkeypatch.setenv("MOTCUA_SIGNING_CHAIN", str(pki.chain_paths[0]))
    signed = sign_result(result_pdf(), clock=FixedClock(NOW))
    assert verify_result(signed).valid
