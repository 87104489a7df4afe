"""Signed electronic results (4.1): the result of an electronic-result procedure is signed with the
installed certificate, stored in the file store, verified on the citizen's download and by audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.demo_pki import make_pki
from engine.errors import NotFound, ValidationError
from engine.esign import SigningConfig, SigningError
from engine.models import CaseResult
from engine.service import Engine
from tests.engine.helpers import result_pdf

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}


def _diploma(engine: Engine) -> tuple[str, str]:
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Thị Mai"}}, engine.actor("clerk")
    )
    assert view.secret is not None
    return view.code, view.secret


def _results(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CaseResult)) or 0)


def test_citizen_downloads_a_verified_signed_result(engine: Engine) -> None:
    code, secret = _diploma(engine)
    view = engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    got, content, check = engine.citizen_result(code, secret, view.id)
    assert got == view and content.startswith(b"%PDF")
    assert check is not None and check.valid and check.trusted and check.covers_whole_file
    assert check.message.startswith("Chữ ký số hợp lệ của")
    assert engine.verify_history(code).findings == []
    with pytest.raises(NotFound, match="Mã hồ sơ hoặc mã tra cứu không đúng"):
        engine.citizen_result(code, "SAI-MA-TRA-CUU", view.id)


def test_a_result_altered_in_the_store_is_reported_by_audit(engine: Engine, tmp_path: Path) -> None:
    code, _ = _diploma(engine)
    view = engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    path = engine.files.path_of(view.sha256)  # type: ignore[attr-defined]
    path.write_bytes(path.read_bytes() + b"\n% appended later\n")
    problems = {f.problem for f in engine.verify_history(code).findings}
    assert problems == {"result_altered"}
    with pytest.raises(ValidationError, match="không khớp mã băm SHA-256"):
        engine.result_file(code, view.id)


def test_a_result_signed_by_an_untrusted_certificate_is_reported(engine: Engine, tmp_path: Path) -> None:
    code, _ = _diploma(engine)
    view = engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    # The administrator replaces the trust roots: the earlier signature no longer chains to them.
    other = make_pki(tmp_path / "other", engine.clock.now())
    engine.signing = replace(engine.signing, chain_paths=other.chain_paths)
    [finding] = engine.verify_history(code).findings
    assert finding.problem == "result_signature_invalid"
    assert "không thuộc cơ quan được tin cậy" in finding.reason
    assert view.id in {r.id for r in engine.case_results(code)}


def test_expired_or_missing_certificate_refuses_the_result(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    code, _ = _diploma(engine)
    before = len(engine.events(code))
    expired = make_pki(tmp_path / "old", clock.now() - timedelta(days=400), valid_days=100)
    engine.signing = expired
    with pytest.raises(SigningError, match="Chứng thư số ký kết quả đã hết hạn ngày"):
        engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    engine.signing = SigningConfig(cert_path=None, key_path=None)
    with pytest.raises(SigningError, match="Chưa cài đặt chứng thư số để ký kết quả điện tử"):
        engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    engine.signing = replace(expired, cert_path=tmp_path / "khong-co.pem")
    with pytest.raises(SigningError, match="Không tìm thấy tệp chứng thư số"):
        engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    assert len(engine.events(code)) == before and _results(engine) == 0


def test_electronic_result_must_be_a_pdf(engine: Engine) -> None:
    code, _ = _diploma(engine)
    with pytest.raises(ValidationError, match="kết quả phải là tệp PDF để ký số"):
        engine.attach_result(code, "ket-qua.xml", b"<ketqua/>", engine.actor("specialist"))
    with pytest.raises(ValidationError, match="Tệp kết quả PDF bị hỏng"):
        engine.attach_result(code, "ket-qua.pdf", b"%PDF-1.4 broken", engine.actor("specialist"))
    assert _results(engine) == 0


def test_paper_result_procedures_store_the_scan_unsigned(engine: Engine) -> None:
    code = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}},
        engine.actor("clerk"),
    ).code
    pdf = result_pdf("Quyet dinh cho phep hoat dong")
    view = engine.attach_result(code, "quyet-dinh.pdf", pdf, engine.actor("specialist"))
    assert view.signer is None and engine.result_file(code, view.id)[1] == pdf


def test_a_missing_trust_root_is_reported_not_a_crash(engine: Engine, tmp_path: Path) -> None:
    code, secret = _diploma(engine)
    view = engine.attach_result(code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    engine.signing = replace(engine.signing, chain_paths=(tmp_path / "khong-co-ca.pem",))
    _, _, check = engine.citizen_result(code, secret, view.id)
    assert check is not None and not check.valid
    assert check.message.startswith("Không tìm thấy tệp chứng thư gốc tin cậy")
    [finding] = engine.verify_history(code).findings
    assert finding.problem == "result_signature_invalid"
