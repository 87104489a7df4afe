"""Write the golden histories (``python -m tests.golden.generate``): real engine runs that together
hold every event kind, each stored with its procedure's BPMN files and the case as the engine left it.

Regenerate only on purpose (a deliberate change of a rule or of an event's shape): the golden test
fails when a committed history no longer replays to its recorded state.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine import audit_store
from engine.calendar import WorkingCalendar
from engine.calendar_store import history
from engine.cases import find_case
from engine.clock import FixedClock
from engine.db import Database
from engine.demo_pki import make_pki
from engine.models import ProcedureVersion
from engine.payments import PaymentConfirmation
from engine.service import Engine
from engine.settings import EngineSettings
from engine.storage import DiskFileStore
from tests.engine.helpers import result_pdf
from tests.support.fixtures import _prepare, vn

HERE = Path(__file__).resolve().parent
ACCEPT_DIPLOMA = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
ACCEPT_OPERATION = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
PDF = b"%PDF-1.4\n% golden history\n"

#: Feature scenarios (tests/engine/test_replay.py plays them) kept as goldens, by file name.
FEATURE_GOLDENS = {
    "two_supplementations": (
        "Hồ sơ bị yêu cầu bổ sung hai lần bị tính là trễ hạn theo Quyết định 766 dù trả trước hạn"
    ),
    "receipt_breach": "Hồ sơ trực tuyến nộp tối thứ Bảy, quá 8 giờ làm việc chưa xử lý thì bị gắn cờ vi phạm",
    "apology_then_late": (
        "Hồ sơ quá hạn bị chặn cho đến khi có phiếu xin lỗi hẹn lại, sau đó vẫn xếp loại quá hạn"
    ),
    "bpmn_timer_stop": "Quá hạn bổ sung 10 ngày làm việc mà tổ chức không bổ sung thì dừng xử lý",
    "fee_online_in_form": "Thanh toán phí trực tuyến, kiểm tra thực tế đạt, cho phép hoạt động trước hạn",
    "fee_at_desk": "Kiểm tra thực tế không đạt, Lãnh đạo Sở không cho phép hoạt động, trả văn bản đúng hạn",
}


def _diploma_everything(engine: Engine, clock: FixedClock) -> str:
    """Documents, claim/release/reassign, a due extension, a statutory breach, an apology, a result."""
    clock.set(vn(2026, 3, 2, 8, 0))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Thị Mai"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    engine.add_document(code, "TP1", "don-de-nghi.pdf", PDF, engine.actor("clerk"))
    task = engine.list_tasks(code)[0].task_id
    engine.claim_task(task, engine.actor("clerk"))
    engine.release_task(task, engine.actor("clerk"))
    engine.reassign_task(task, "clerk", engine.actor("head"))
    clock.set(vn(2026, 3, 2, 9, 0))
    engine.complete_task(code, "receipt_check", ACCEPT_DIPLOMA, engine.actor("clerk"))
    clock.set(vn(2026, 3, 2, 10, 0))
    engine.complete_task(
        code,
        "verify_register",
        {"found": True, "register_ref": "Sổ gốc 2012, số 88", "copies": 3, "bulk": True},
        engine.actor("specialist"),
    )
    clock.set(vn(2026, 3, 10, 9, 0))
    engine.fire_due_timers()
    engine.apologise(
        code, vn(2026, 3, 12, 16, 0), "Sổ gốc lưu trữ ở kho xa", "Phòng thử nghiệm", engine.actor("head")
    )
    clock.set(vn(2026, 3, 11, 9, 0))
    engine.complete_task(code, "approve_copy", {"approved": True}, engine.actor("head"))
    # diploma_copy issues an electronic result: signed by the test certificate (so this golden's
    # result digest changes on every regeneration; the history replays all the same).
    engine.attach_result(code, "ban-sao.pdf", result_pdf("Ban sao van bang golden"), engine.actor("clerk"))
    engine.complete_task(
        code, "return_result", {"method": "in_person", "returned_to": "Nguyễn Thị Mai"}, engine.actor("clerk")
    )
    return code


def _withdrawal(engine: Engine, clock: FixedClock) -> str:
    """The applicant asks to withdraw after acceptance; a head confirms; open steps are cancelled."""
    clock.set(vn(2026, 3, 3, 8, 30))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Trần Văn Hùng"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT_DIPLOMA, engine.actor("clerk"))
    clock.set(vn(2026, 3, 3, 10, 0))
    paper = ("don-rut-ho-so.pdf", b"%PDF-1.4 don rut ho so co chu ky")  # the request signed at the desk
    engine.request_withdrawal(code, "Không còn nhu cầu cấp bản sao", engine.actor("clerk"), paper)
    clock.set(vn(2026, 3, 3, 11, 0))
    engine.confirm_withdrawal(code, engine.actor("head"))
    return code


def _gateway_payment(engine: Engine, clock: FixedClock) -> str:
    """A fee paid through the payment gateway (the verified callback records ``fee_paid``)."""
    clock.set(vn(2026, 3, 4, 8, 0))
    code = engine.start_case(
        {
            "procedure_id": "language_centre_operation",
            "applicant": {"name": "Trung tâm Sao Mai"},
            "channel": 1,
        },
        engine.actor("clerk"),
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT_OPERATION, engine.actor("clerk"))
    clock.set(vn(2026, 3, 4, 14, 0))
    engine.record_payment(
        code,
        PaymentConfirmation(code, "GW-260304-0001", "nonce-golden-0001", 1_000_000, vn(2026, 3, 4, 13, 55)),
    )
    engine.complete_task(
        code,
        "pay_fee",
        {"amount": 1_000_000, "payment_method": "online", "transaction_ref": "GW-260304-0001"},
        engine.actor("citizen"),
    )
    return code


def _digital_receipt(engine: Engine, clock: FixedClock) -> str:
    """Identity at receipt (a mismatch, then the clerk's reason) and a digitised component."""
    from engine.digitise import OcrOutput, digitise_component
    from engine.identity import (
        LocalPopulationData,
        check_identity,
        override_identity,
        seed_population_records,
    )

    def ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
        # A fixed PDF/A and text keep the golden file byte-stable (tests/engine/test_digitise.py runs OCR).
        return OcrOutput(b"%PDF-1.7\n% golden digitised page\n", "ĐƠN ĐỀ NGHỊ CẤP BẢN SAO", 1)

    clock.set(vn(2026, 3, 6, 8, 0))
    seed_population_records(engine.db)
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn An"}, "channel": 1}, clerk
    ).code
    population = LocalPopulationData(engine.db)
    check_identity(engine, code, "001090012345", "1990-05-13", clerk, population, "Nguyễn Văn An")
    override_identity(engine, code, "Đã đối chiếu bản chính thẻ CCCD", clerk)
    digitise_component(engine, code, "TP2", "cccd.png", b"\x89PNG\r\n\x1a\nscan", clerk, engine.files, ocr)
    engine.complete_task(code, "receipt_check", ACCEPT_DIPLOMA, clerk)
    return code


def _digital_reuse(engine: Engine, clock: FixedClock) -> str:
    """An online dossier with the portal's identity that reuses the ID card digitised for the
    applicant's counter dossier in ``digital_receipt`` (``identity_checked`` by the portal,
    ``document_reused``)."""
    from engine.submissions import Upload

    clock.set(vn(2026, 3, 9, 8, 0))
    asserted = {"cccd": "001090012345", "date_of_birth": "1990-05-12", "full_name": "Nguyễn Văn An"}
    [offer] = engine.portal_reuse_offers("diploma_copy", asserted)
    return engine.submit_online(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Nguyễn Văn An", "id_number": "001090012345"},
            "data": {"diploma_type": "thpt", "graduation_year": 2008, "school": "THPT Chu Văn An",
                     "copies": 1, "delivery": "post"},
            "identity": asserted,
            "reuse": {"TP2": offer.item_id},
        },
        [Upload("TP1", "don.pdf", PDF)],
    ).code  # fmt: skip


def _cash_at_desk(engine: Engine, clock: FixedClock) -> str:
    """The fee paid in cash at the desk: ``fee_paid`` with method cash and an electronic receipt."""
    clock.set(vn(2026, 3, 10, 8, 0))
    code = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Bình Minh"}},
        engine.actor("clerk"),
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT_OPERATION, engine.actor("clerk"))
    clock.set(vn(2026, 3, 10, 10, 0))
    engine.record_cash_payment(code, 1_000_000, engine.actor("clerk"))
    return code


def _plain_end(engine: Engine, clock: FixedClock) -> str:
    """A process that ends on an end event without a status: the case completes (``case_completed``)."""
    from tests.engine.helpers import deploy_fixture

    clock.set(vn(2026, 3, 5, 8, 0))
    deploy_fixture(engine, replace=('<motcua:status code="10"/>', ""))
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": {"name": "Lê Văn Bình"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    clock.set(vn(2026, 3, 5, 9, 0))
    engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    return code


def _secret_reissued(engine: Engine, clock: FixedClock) -> str:
    """A counter dossier whose applicant lost the lookup secret: the desk issues a new one."""
    clock.set(vn(2026, 3, 6, 8, 0))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Hồ Văn Mất"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT_DIPLOMA, engine.actor("clerk"))
    clock.set(vn(2026, 3, 6, 9, 0))
    engine.reissue_secret(code, engine.actor("clerk"))
    return code


def _calendar_change(engine: Engine, clock: FixedClock) -> str:
    """Two days off declared while a transfer is open: a step's due moves, then the printed appointment
    falls on a day off (flagged) and is rescheduled by an apology for the calendar change (not late)."""
    clock.set(vn(2026, 11, 2, 9, 0))
    code = engine.start_case(
        {"procedure_id": "student_transfer", "applicant": {"name": "Lê Minh Châu"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    engine.complete_task(
        code,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]},
        engine.actor("clerk"),
    )
    admin = engine.actor("admin")
    clock.set(vn(2026, 11, 2, 10, 0))
    engine.add_calendar_override(date(2026, 11, 3), "off", "Quyết định số 50/QĐ-UBND ngày 02/11/2026", admin)
    clock.set(vn(2026, 11, 2, 10, 30))
    engine.add_calendar_override(date(2026, 11, 9), "off", "Quyết định số 51/QĐ-UBND ngày 02/11/2026", admin)
    clock.set(vn(2026, 11, 2, 11, 0))
    engine.apologise(
        code,
        vn(2026, 11, 10, 11, 30),
        "Ngày hẹn trả trùng ngày nghỉ mới công bố",
        "Bộ phận một cửa",
        engine.actor("head"),
        kind="calendar",
    )
    return code


SCRIPTED: dict[str, Callable[[Engine, FixedClock], str]] = {
    "plain_end": _plain_end,
    "diploma_everything": _diploma_everything,
    "withdrawal": _withdrawal,
    "gateway_payment": _gateway_payment,
    "digital_receipt": _digital_receipt,
    "digital_reuse": _digital_reuse,
    "cash_at_desk": _cash_at_desk,
    "secret_reissued": _secret_reissued,
    "calendar_change": _calendar_change,  # last: its days off apply to every later computation
}


def dump_case(engine: Engine, code: str) -> dict[str, Any]:
    """A case's history, its version's files and its stored view, as a golden file holds them."""
    with engine.db.read() as session:
        case = find_case(session, code)
        version = session.get(ProcedureVersion, case.procedure_version_id)
        assert version is not None
        events = audit_store.case_events(session, case.id)
        stored = audit_store.stored_view(session, case)
        procedure_id = case.procedure_id
        files = dict(version.files)
        overrides = [
            {"day": r.day, "kind": r.kind, "note": r.note, "created_at": r.created_at.isoformat()}
            for r in history(session)
            if r.created_at <= events[-1].at
        ]
    golden: dict[str, Any] = {
        "procedure_id": procedure_id,
        "files": files,
        "events": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "task_id": e.task_id,
                "element_id": e.element_id,
                "status_from": e.status_from,
                "status_to": e.status_to,
                "payload": e.payload,
            }
            for e in events
        ],
        "final": stored,
    }
    if overrides:  # the calendar as the engine knew it (replay applies each from its moment)
        golden["overrides"] = overrides
    return golden


def main() -> None:
    from tests.engine.test_replay import play, scenarios

    by_name = {s.name: s for s in scenarios()}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/golden.sqlite3"
        _prepare(url)
        clock = FixedClock(datetime.fromisoformat("2026-03-02T08:00:00+07:00"))
        # Files and the agency's test certificate live in the temporary folder too.
        files = DiskFileStore(Path(tmp) / "files")
        signing = make_pki(Path(tmp) / "pki", clock.now())
        engine = Engine(
            Database(url),
            clock=clock,
            calendar=WorkingCalendar(),
            settings=EngineSettings(),
            files=files,
            signing=signing,
        )
        cases: dict[str, str] = {}
        for name, title in FEATURE_GOLDENS.items():
            cases[name], _ = play(engine, clock, by_name[title])
        for name, script in SCRIPTED.items():
            cases[name] = script(engine, clock)
        for name, code in cases.items():
            path = HERE / f"{name}.json"
            path.write_text(
                json.dumps(dump_case(engine, code), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                encoding="utf-8",
            )
            print(f"{path.name}: {code}")
        engine.db.dispose()


if __name__ == "__main__":
    main()
