"""PAdES signing of results with pyHanko, using a CA and certificates generated here (cryptography)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from engine.clock import FixedClock
from engine.demo_pki import certificate
from engine.errors import ValidationError
from engine.esign import SigningConfig, SigningError, sign_result, verify_result
from tests.engine.helpers import result_pdf

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _write(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SigningConfig:
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate(
        "CA thử nghiệm motcua", ca_key, None, NOW - timedelta(days=400), NOW + timedelta(days=3650)
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate(
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
    other_root = certificate("CA khác", other_key, None, NOW - timedelta(days=1), NOW + timedelta(days=9))
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


def test_expired_and_not_yet_validcertificate(pki: SigningConfig) -> None:
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
