"""Signed electronic results (kết quả điện tử): a PAdES signature by the agency, checked on download.

The agency's certificate and private key are files the administrator installs on the server
(``MOTCUA_SIGNING_CERT``, ``MOTCUA_SIGNING_KEY``, optional ``MOTCUA_SIGNING_KEY_PASSPHRASE``,
``MOTCUA_SIGNING_CHAIN`` with intermediate/root certificates, ``MOTCUA_SIGNING_TRUST_ROOTS`` for
verification); the key is read when signing and never stored in the database. Signing refuses a
missing, unreadable, not yet valid or expired certificate against the engine's clock, so no result
leaves with a signature a checker would reject.

pyHanko stamps the CMS signing time from the wall clock itself; the engine's clock decides only
whether the certificate may sign.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from .clock import Clock, SystemClock
from .errors import MotcuaError, ValidationError
from .sla import LOCAL_TZ

FIELD_NAME = "ChuKyCoQuan"
DEFAULT_PKI = Path("var") / "pki"


class SigningError(MotcuaError):
    """The result cannot be signed: certificate or key missing, unreadable, expired or mismatched."""

    code = "signing_error"
    http_status = 503


@dataclass(frozen=True)
class SigningConfig:
    """Where the administrator put the agency's signing material."""

    cert_path: Path | None
    key_path: Path | None
    passphrase: bytes | None = None
    chain_paths: tuple[Path, ...] = ()
    trust_root_paths: tuple[Path, ...] = ()
    reason: str = "Kết quả giải quyết thủ tục hành chính"
    location: str = "Bộ phận Một cửa"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> SigningConfig:
        """Paths from ``MOTCUA_SIGNING_*`` (lists separated by ``os.pathsep``); without them, the
        certificate the administrator installed under ``var/pki/`` (``agency.pem``, ``agency.key``,
        ``ca.pem``), if there is one."""

        def paths(name: str) -> tuple[Path, ...]:
            return tuple(Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p)

        cert = os.environ.get("MOTCUA_SIGNING_CERT")
        key = os.environ.get("MOTCUA_SIGNING_KEY")
        if not cert and not key and (DEFAULT_PKI / "agency.pem").is_file():
            chain = (DEFAULT_PKI / "ca.pem",) if (DEFAULT_PKI / "ca.pem").is_file() else ()
            return cls(
                cert_path=DEFAULT_PKI / "agency.pem", key_path=DEFAULT_PKI / "agency.key", chain_paths=chain
            )
        passphrase = os.environ.get("MOTCUA_SIGNING_KEY_PASSPHRASE")
        return cls(
            cert_path=Path(cert) if cert else None,
            key_path=Path(key) if key else None,
            passphrase=passphrase.encode() if passphrase else None,
            chain_paths=paths("MOTCUA_SIGNING_CHAIN"),
            trust_root_paths=paths("MOTCUA_SIGNING_TRUST_ROOTS"),
        )


class SignatureCheck(BaseModel):
    """What a download shows about the result's signature."""

    signed: bool
    intact: bool = False  # the signed bytes are unchanged
    trusted: bool = False  # the signer's certificate chains to an installed trust root
    covers_whole_file: bool = False  # nothing was appended after the signature
    valid: bool = False  # all of the above
    signer: str | None = None
    signed_at: datetime | None = None
    message: str


T = TypeVar("T")


def _off_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (pyHanko's synchronous API calls ``asyncio.run``) in a thread of its own when
    the caller's thread already runs an event loop (an async server, a browser-driving test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SigningError(f"Không tìm thấy tệp {what} '{path}' để ký kết quả điện tử") from exc
    except OSError as exc:
        raise SigningError(f"Không đọc được tệp {what} '{path}': {exc.strerror}") from exc


def _load_cert(data: bytes, path: Path) -> x509.Certificate:
    try:
        return (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as exc:
        raise SigningError(f"Tệp chứng thư số '{path}' không đúng định dạng PEM/DER") from exc


def _local_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def load_signer(config: SigningConfig, now: datetime) -> signers.SimpleSigner:
    """The agency's signer, after checking the certificate is installed, readable, current and
    matches the key."""
    if config.cert_path is None or config.key_path is None:
        raise SigningError(
            "Chưa cài đặt chứng thư số để ký kết quả điện tử "
            "(cấu hình MOTCUA_SIGNING_CERT và MOTCUA_SIGNING_KEY)"
        )
    cert_bytes = _read(config.cert_path, "chứng thư số")
    key_bytes = _read(config.key_path, "khóa bí mật")
    cert = _load_cert(cert_bytes, config.cert_path)
    if now < cert.not_valid_before_utc:
        raise SigningError(
            f"Chứng thư số ký kết quả chưa có hiệu lực (từ ngày {_local_day(cert.not_valid_before_utc)})"
        )
    if now > cert.not_valid_after_utc:
        raise SigningError(f"Chứng thư số ký kết quả đã hết hạn ngày {_local_day(cert.not_valid_after_utc)}")
    try:
        key = (
            serialization.load_pem_private_key(key_bytes, config.passphrase)
            if b"-----BEGIN" in key_bytes
            else serialization.load_der_private_key(key_bytes, config.passphrase)
        )
    except (ValueError, TypeError) as exc:
        raise SigningError(
            f"Không mở được khóa bí mật '{config.key_path}' (sai mật khẩu hoặc sai định dạng)"
        ) from exc
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise SigningError("Khóa bí mật không khớp với chứng thư số ký kết quả")
    loaded = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(config.key_path),
        str(config.cert_path),
        ca_chain_files=[str(p) for p in config.chain_paths] or None,
        key_passphrase=config.passphrase,
    )
    signer: signers.SimpleSigner | None = loaded
    if signer is None:
        raise SigningError("Không nạp được chứng thư số và khóa bí mật để ký kết quả")
    return signer


def sign_result(pdf_bytes: bytes, config: SigningConfig | None = None, clock: Clock | None = None) -> bytes:
    """``pdf_bytes`` with the agency's PAdES signature appended (incremental update)."""
    if not pdf_bytes.startswith(b"%PDF"):
        raise ValidationError("Tệp kết quả phải là PDF để ký số")
    settings = config or SigningConfig.from_env()
    signer = load_signer(settings, (clock or SystemClock()).now())
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=settings.reason,
        location=settings.location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
        out = _off_loop(lambda: signers.sign_pdf(writer, meta, signer=signer))
    except (PdfError, ValueError, KeyError) as exc:
        raise ValidationError(f"Tệp kết quả PDF bị hỏng, không ký được: {exc}") from exc
    return bytes(out.getvalue())


def _trust_roots(config: SigningConfig) -> list[asn1_x509.Certificate]:
    roots = []
    for path in config.trust_root_paths or config.chain_paths:
        data = _read(path, "chứng thư gốc tin cậy")
        roots.append(
            asn1_x509.Certificate.load(_load_cert(data, path).public_bytes(serialization.Encoding.DER))
        )
    return roots


def verify_result(
    pdf_bytes: bytes, config: SigningConfig | None = None, at: datetime | None = None
) -> SignatureCheck:
    """Check the last signature of a result: intact, whole file, chaining to a trusted root."""
    settings = config or SigningConfig.from_env()
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        embedded = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        return SignatureCheck(signed=False, message=f"Tệp kết quả không phải PDF đọc được: {exc}")
    if not embedded:
        return SignatureCheck(signed=False, message="Tệp kết quả chưa được ký số")
    signature = embedded[-1]
    context = ValidationContext(trust_roots=_trust_roots(settings), allow_fetching=False, moment=at)
    try:
        status = _off_loop(lambda: validate_pdf_signature(signature, context))
    except (PdfError, ValueError, KeyError) as exc:
        return SignatureCheck(signed=True, message=f"Không kiểm tra được chữ ký số: {exc}")
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else None
    valid = bool(status.intact and status.valid and status.trusted and whole)
    if not status.intact or not status.valid:
        message = "Tệp kết quả đã bị sửa sau khi ký: chữ ký số không còn hợp lệ"
    elif not status.trusted:
        message = "Chứng thư số của người ký không thuộc cơ quan được tin cậy"
    elif not whole:
        message = "Tệp kết quả có nội dung được thêm vào sau chữ ký số"
    else:
        message = f"Chữ ký số hợp lệ của {signer}"
    return SignatureCheck(
        signed=True,
        intact=bool(status.intact),
        trusted=bool(status.trusted),
        covers_whole_file=whole,
        valid=valid,
        signer=signer,
        signed_at=status.signer_reported_dt,
        message=message,
    )


def sign_and_check(pdf_bytes: bytes, config: SigningConfig, clock: Clock) -> tuple[bytes, str]:
    """Sign a result and verify the signature as a citizen's download will: (signed bytes, signer).

    A signature that does not chain to the installed trust roots would be rejected on download, so
    it is refused here, before anything is stored.
    """
    signed = sign_result(pdf_bytes, config, clock)
    check = verify_result(signed, config, clock.now())
    if not check.valid or check.signer is None:
        raise SigningError(f"Chữ ký số vừa tạo không kiểm tra được: {check.message}")
    return signed, check.signer
