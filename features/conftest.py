"""Vietnamese step definitions shared by every feature (pytest-bdd).

Steps talk to the real engine (SpiffWorkflow + SQLite/PostgreSQL via the ``engine`` fixture), with
the injected clock moved by "thời gian trôi tới".
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from engine.audit import GENESIS, chain_hash, event_content
from engine.clock import FixedClock
from engine.errors import Forbidden, SlaViolation, ValidationError
from engine.service import CaseView, Engine
from tests.support.fixtures import VN

PEOPLE = {
    "cán bộ một cửa": "clerk",
    "chuyên viên": "specialist",
    "lãnh đạo phòng": "head",
    "lãnh đạo Sở": "director",
    "phòng phối hợp": "partner",
    "công dân": "citizen",
}


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN)


@pytest.fixture
def ctx() -> dict[str, Any]:
    return {}


@pytest.fixture(autouse=True)
def _every_backend(engine: Engine) -> Engine:
    """Requested statically so each scenario runs once on SQLite and once on PostgreSQL."""
    return engine


def current(engine: Engine, ctx: dict[str, Any]) -> CaseView:
    return engine.get_case(ctx["code"])


@given(parsers.parse('thời điểm hiện tại là "{moment}"'))
@when(parsers.parse('thời gian trôi tới "{moment}"'))
def set_time(clock: FixedClock, moment: str) -> None:
    clock.set(local(moment))


@when(
    parsers.re(
        r'công dân nộp hồ sơ trực tuyến thủ tục "(?P<procedure>[^"]+)" với người nộp "(?P<name>[^"]+)"'
    )
)
def submit_online(engine: Engine, ctx: dict[str, Any], procedure: str, name: str) -> None:
    view = engine.start_case(
        {"procedure_id": procedure, "applicant": {"name": name}, "channel": 2}, engine.actor("citizen")
    )
    ctx["code"] = view.code


@when(
    parsers.re(
        r'cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "(?P<procedure>[^"]+)" '
        r'với người nộp "(?P<name>[^"]+)"'
    )
)
def submit_at_counter(engine: Engine, ctx: dict[str, Any], procedure: str, name: str) -> None:
    view = engine.start_case(
        {"procedure_id": procedure, "applicant": {"name": name}, "channel": 1}, engine.actor("clerk")
    )
    ctx["code"] = view.code


@when(parsers.re(r'(?P<person>.+) hoàn thành bước "(?P<element>[^"]+)" với dữ liệu:'))
def complete_step(engine: Engine, ctx: dict[str, Any], person: str, element: str, docstring: str) -> None:
    engine.complete_task(ctx["code"], element, json.loads(docstring), engine.actor(PEOPLE[person]))


@when("hệ thống kích hoạt các hẹn giờ đến hạn")
def fire_timers(engine: Engine) -> None:
    engine.fire_due_timers()


@then(parsers.parse("hồ sơ có trạng thái {status:d}"))
def has_status(engine: Engine, ctx: dict[str, Any], status: int) -> None:
    assert current(engine, ctx).status == status


@then(parsers.parse('mã hồ sơ có dạng "{pattern}"'))
def code_matches(ctx: dict[str, Any], pattern: str) -> None:
    assert re.fullmatch(pattern, ctx["code"]), ctx["code"]


@then(parsers.parse('hạn tiếp nhận là "{moment}"'))
def receipt_due(engine: Engine, ctx: dict[str, Any], moment: str) -> None:
    assert current(engine, ctx).receipt_due_at == local(moment)


@then(parsers.parse('hạn trả kết quả là "{moment}"'))
def due(engine: Engine, ctx: dict[str, Any], moment: str) -> None:
    assert current(engine, ctx).due_at == local(moment)


@then(parsers.parse('công việc đang mở là "{element}" của vai trò "{role}"'))
def open_task(engine: Engine, ctx: dict[str, Any], element: str, role: str) -> None:
    tasks = engine.list_tasks(ctx["code"])
    assert [(t.element_id, t.role) for t in tasks] == [(element, role)]


@then(parsers.parse('hồ sơ được xếp loại "{outcome}"'))
def outcome_is(engine: Engine, ctx: dict[str, Any], outcome: str) -> None:
    assert current(engine, ctx).outcome == outcome


@then("hồ sơ đã kết thúc")
def finished(engine: Engine, ctx: dict[str, Any]) -> None:
    view = current(engine, ctx)
    assert view.completed and view.tasks == []


@then(parsers.parse('nhật ký hồ sơ có các chuyển trạng thái "{chain}"'))
def status_chain(engine: Engine, ctx: dict[str, Any], chain: str) -> None:
    seen = [
        f"{e.status_from}→{e.status_to}" for e in engine.events(ctx["code"]) if e.kind == "status_changed"
    ]
    assert seen == [s.strip() for s in chain.split(",")]


@then(parsers.parse('nhật ký hồ sơ có sự kiện "{kind}"'))
def has_event(engine: Engine, ctx: dict[str, Any], kind: str) -> None:
    assert kind in [e.kind for e in engine.events(ctx["code"])]


@then("chuỗi băm của nhật ký hồ sơ toàn vẹn")
def chain_intact(engine: Engine, ctx: dict[str, Any]) -> None:
    prev = GENESIS
    for e in engine.events(ctx["code"]):
        content = event_content(
            case_code=ctx["code"],
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            kind=e.kind,
            task_id=e.task_id,
            element_id=e.element_id,
            status_from=e.status_from,
            status_to=e.status_to,
            payload=e.payload,
        )
        prev_expected = chain_hash(prev, content)
        assert e.hash == prev_expected
        prev = e.hash


@then(parsers.parse('{person} không được hoàn thành bước "{element}"'))
def cannot_complete(engine: Engine, ctx: dict[str, Any], person: str, element: str) -> None:
    with pytest.raises(Forbidden):
        engine.complete_task(ctx["code"], element, {"found": True}, engine.actor(PEOPLE[person]))


@then(parsers.parse('hồ sơ bị gắn cờ "{flag}"'))
def flagged(engine: Engine, ctx: dict[str, Any], flag: str) -> None:
    assert flag in current(engine, ctx).sla.get("flags", [])


@then(parsers.parse('hồ sơ không bị gắn cờ "{flag}"'))
def not_flagged(engine: Engine, ctx: dict[str, Any], flag: str) -> None:
    assert flag not in current(engine, ctx).sla.get("flags", [])


# ---------------------------------------------------------------------------------- procedures and SLA
# Generic steps for the procedure features and sla.feature (parallel work, supplementation, apology).

PEOPLE.update(
    {
        "trường tiếp nhận": "partner",  # receiving school in the transfer procedure (other_department)
        "đơn vị phối hợp": "partner",  # department giving an inter-department appraisal opinion
    }
)


def _last_event(engine: Engine, ctx: dict[str, Any], kind: str, element: str | None = None) -> Any:
    found = [
        e
        for e in engine.events(ctx["code"])
        if e.kind == kind and (element is None or e.element_id == element)
    ]
    assert found, f"không có sự kiện {kind} {element or ''}"
    return found[-1]


@when(
    parsers.re(
        r'(?P<person>.+) ban hành phiếu xin lỗi hẹn lại ngày "(?P<moment>[^"]+)" '
        r'với lý do "(?P<reason>[^"]+)"(?: do lỗi của "(?P<unit>[^"]+)")?'
    )
)
def issue_apology(
    engine: Engine, ctx: dict[str, Any], person: str, moment: str, reason: str, unit: str | None
) -> None:
    actor = engine.actor(PEOPLE[person])
    engine.apologise(ctx["code"], local(moment), reason, unit or actor.unit or "", actor)


@then(parsers.parse('{person} không được ban hành thêm phiếu xin lỗi hẹn lại ngày "{moment}"'))
def cannot_apologise_again(engine: Engine, ctx: dict[str, Any], person: str, moment: str) -> None:
    before = current(engine, ctx)
    with pytest.raises(SlaViolation):
        engine.apologise(ctx["code"], local(moment), "Xin hẹn lại lần nữa", "", engine.actor(PEOPLE[person]))
    after = current(engine, ctx)
    assert (after.due_at, after.sla.get("apologies")) == (before.due_at, before.sla.get("apologies"))


@then(parsers.parse("{person} không được tiếp tục xử lý khi chưa có phiếu xin lỗi"))
def blocked_until_apology(engine: Engine, ctx: dict[str, Any], person: str) -> None:
    actor = engine.actor(PEOPLE[person])
    before = current(engine, ctx)
    mine = [t for t in before.tasks if actor.has_role(t.role)]
    assert mine, f"{person} không có công việc đang mở để thử"
    for task in mine:
        with pytest.raises(SlaViolation):
            engine.complete_task(ctx["code"], task.task_id, {}, actor)
    after = current(engine, ctx)
    assert (after.status, after.version) == (before.status, before.version)
    assert [t.task_id for t in after.tasks] == [t.task_id for t in before.tasks]


@then(
    parsers.re(
        r'(?P<person>.+) không được hoàn thành bước "(?P<element>[^"]+)" khi thiếu "(?P<field>[^"]+)" '
        r"với dữ liệu:"
    )
)
def rejected_form(
    engine: Engine, ctx: dict[str, Any], person: str, element: str, field: str, docstring: str
) -> None:
    before = current(engine, ctx)
    with pytest.raises(ValidationError) as caught:
        engine.complete_task(ctx["code"], element, json.loads(docstring), engine.actor(PEOPLE[person]))
    assert field in [p["field"] for p in caught.value.details.get("fields", [])], caught.value.message
    assert current(engine, ctx).version == before.version


@then("công việc đang mở gồm:")
def open_tasks(engine: Engine, ctx: dict[str, Any], datatable: list[list[str]]) -> None:
    expected = sorted((row[0].strip(), row[1].strip()) for row in datatable[1:])
    tasks = engine.list_tasks(ctx["code"])
    assert sorted((t.element_id, t.role or "") for t in tasks) == expected


@then(parsers.parse('hạn xử lý bước "{element}" là "{moment}"'))
def step_due(engine: Engine, ctx: dict[str, Any], element: str, moment: str) -> None:
    dues = [t.due_at for t in engine.list_tasks(ctx["code"]) if t.element_id == element]
    assert dues == [local(moment)]


@then(parsers.parse('bước "{element}" được xếp loại "{outcome}"'))
def step_outcome(engine: Engine, ctx: dict[str, Any], element: str, outcome: str) -> None:
    assert _last_event(engine, ctx, "task_completed", element).payload["outcome"] == outcome


@then(parsers.parse('việc tiếp nhận được xếp loại "{outcome}"'))
def receipt_outcome(engine: Engine, ctx: dict[str, Any], outcome: str) -> None:
    assert current(engine, ctx).sla.get("receipt_outcome") == outcome


@then("hồ sơ không có hạn trả kết quả")
def no_due(engine: Engine, ctx: dict[str, Any]) -> None:
    assert current(engine, ctx).due_at is None


@then(parsers.parse('hạn trả kết quả được tính lại từ đầu là "{moment}"'))
def due_restarted(engine: Engine, ctx: dict[str, Any], moment: str) -> None:
    assert current(engine, ctx).due_at == local(moment)
    event = _last_event(engine, ctx, "due_set")
    assert event.payload["reason"] == "supplemented_restart"
    assert datetime.fromisoformat(event.payload["due_at"]) == local(moment)


@then("thời hạn giải quyết đang tạm dừng")
def clock_paused(engine: Engine, ctx: dict[str, Any]) -> None:
    assert "paused_at" in current(engine, ctx).sla


@then(parsers.parse("số lần yêu cầu bổ sung là {count:d}"))
def supplement_count(engine: Engine, ctx: dict[str, Any], count: int) -> None:
    assert current(engine, ctx).sla.get("supplements") == count


@then("hồ sơ bị tính là trễ hạn theo Quyết định 766")
def late_766(engine: Engine, ctx: dict[str, Any]) -> None:
    assert current(engine, ctx).sla.get("late_766") is True


@then("hồ sơ không bị tính là trễ hạn theo Quyết định 766")
def not_late_766(engine: Engine, ctx: dict[str, Any]) -> None:
    assert not current(engine, ctx).sla.get("late_766")


@then(parsers.parse('nhật ký hồ sơ không có sự kiện "{kind}"'))
def has_no_event(engine: Engine, ctx: dict[str, Any], kind: str) -> None:
    assert kind not in [e.kind for e in engine.events(ctx["code"])]


@then(parsers.parse('phiếu xin lỗi ghi ngày hẹn cũ "{old}" và ngày hẹn mới "{new}"'))
def apology_recorded(engine: Engine, ctx: dict[str, Any], old: str, new: str) -> None:
    payload = _last_event(engine, ctx, "apology_issued").payload
    assert payload["form"] == "Mẫu 04" and payload["reason"]
    assert datetime.fromisoformat(payload["original_due_at"]) == local(old)
    assert datetime.fromisoformat(payload["new_due_at"]) == local(new)
    assert current(engine, ctx).due_at == local(new)


@then(parsers.re(r'kết quả hồ sơ có "(?P<field>[^"]+)" là (?P<value>.+)'))
def result_field(engine: Engine, ctx: dict[str, Any], field: str, value: str) -> None:
    assert current(engine, ctx).data.get(field) == json.loads(value)


# ------------------------------------------------------------------------------------ supplementation once
@when(parsers.parse('{person} phê duyệt yêu cầu bổ sung lần thứ hai với lý do "{reason}"'))
def approve_repeat_supplement(engine: Engine, ctx: dict[str, Any], person: str, reason: str) -> None:
    engine.approve_supplement(ctx["code"], reason, engine.actor(PEOPLE[person]))


@then(parsers.parse('{person} không được phê duyệt yêu cầu bổ sung lần thứ hai vì "{text}"'))
def cannot_approve(engine: Engine, ctx: dict[str, Any], person: str, text: str) -> None:
    before = current(engine, ctx)
    with pytest.raises((ValidationError, Forbidden)) as caught:
        engine.approve_supplement(ctx["code"], "Đề nghị bổ sung thêm", engine.actor(PEOPLE[person]))
    assert text in caught.value.message, caught.value.message
    assert current(engine, ctx).version == before.version


@then(
    parsers.re(
        r'(?P<person>.+) không được yêu cầu bổ sung lần nữa ở bước "(?P<element>[^"]+)" '
        r'vì "(?P<text>[^"]+)" với dữ liệu:'
    )
)
def cannot_supplement_again(
    engine: Engine, ctx: dict[str, Any], person: str, element: str, text: str, docstring: str
) -> None:
    before = current(engine, ctx)
    with pytest.raises((ValidationError, SlaViolation)) as caught:
        engine.complete_task(ctx["code"], element, json.loads(docstring), engine.actor(PEOPLE[person]))
    assert text in caught.value.message, caught.value.message
    after = current(engine, ctx)
    assert (after.version, after.status, after.sla) == (before.version, before.status, before.sla)
    assert [t.task_id for t in after.tasks] == [t.task_id for t in before.tasks]


@then(parsers.parse("số lần yêu cầu bổ sung khi tiếp nhận là {count:d}"))
def receipt_supplement_count(engine: Engine, ctx: dict[str, Any], count: int) -> None:
    assert current(engine, ctx).sla.get("receipt_supplements", 0) == count


# ---------------------------------------------------------------------------- calendar changes, apologies
PEOPLE["quản trị hệ thống"] = "admin"


@when(
    parsers.re(
        r'quản trị hệ thống khai báo ngày "(?P<day>[^"]+)" là (?P<kind>ngày nghỉ|ngày làm bù) '
        r'theo "(?P<basis>[^"]+)"'
    )
)
def declare_day(engine: Engine, ctx: dict[str, Any], day: str, kind: str, basis: str) -> None:
    change = "off" if kind == "ngày nghỉ" else "work"
    ctx["calendar_change"] = engine.add_calendar_override(
        date.fromisoformat(day), change, basis, engine.actor("admin")
    )


@then(parsers.parse('ngày hẹn gợi ý là "{before}" hoặc "{after}"'))
def suggested_appointments(engine: Engine, ctx: dict[str, Any], before: str, after: str) -> None:
    payload = _last_event(engine, ctx, "calendar_changed").payload
    assert [datetime.fromisoformat(m) for m in payload["nearest"]] == [local(before), local(after)]
    assert ctx["code"] in ctx["calendar_change"]["appointments_on_day_off"]


@when(
    parsers.re(
        r'(?P<person>.+) ban hành phiếu xin lỗi vì sai sót "(?P<reason>[^"]+)" '
        r'(?:không hẹn lại|hẹn lại ngày "(?P<moment>[^"]+)")'
    )
)
def apologise_for_mistake(
    engine: Engine, ctx: dict[str, Any], person: str, reason: str, moment: str | None
) -> None:
    actor = engine.actor(PEOPLE[person])
    engine.apologise(
        ctx["code"], local(moment) if moment else None, reason, actor.unit or "", actor, kind="mistake"
    )


@when(parsers.parse('{person} ban hành phiếu xin lỗi hẹn lại do điều chỉnh lịch ngày "{moment}"'))
def apologise_for_calendar(engine: Engine, ctx: dict[str, Any], person: str, moment: str) -> None:
    actor = engine.actor(PEOPLE[person])
    reason = "Ngày hẹn trả trùng ngày nghỉ mới được công bố"
    engine.apologise(ctx["code"], local(moment), reason, actor.unit or "", actor, kind="calendar")


@then(parsers.parse("số phiếu xin lỗi do sai sót là {count:d}"))
def mistake_apologies(engine: Engine, ctx: dict[str, Any], count: int) -> None:
    assert current(engine, ctx).sla.get("mistake_apologies", 0) == count


@then("hồ sơ không bị tính là trễ hạn do phiếu xin lỗi")
def not_late_by_apology(engine: Engine, ctx: dict[str, Any]) -> None:
    sla = current(engine, ctx).sla
    assert not sla.get("late_by_apology") and sla.get("apologies", 0) == 0


# ------------------------------------------------------------------------------------ auditor (issue 7)


@pytest.fixture
def no_seals(engine: Engine) -> Any:
    """Daily seals are not case tables, so the shared clean-up keeps them: scenarios start and end without."""
    from sqlalchemy import delete

    from engine.models import AuditDigest, AuditDigestEntry

    def wipe() -> None:
        with engine.db.unit_of_work() as session:
            session.execute(delete(AuditDigestEntry))
            session.execute(delete(AuditDigest))

    wipe()
    yield
    wipe()


@given("chưa có niêm phong nhật ký nào")
def start_without_seals(no_seals: None) -> None:
    return None


@then("kiểm tra toàn vẹn nhật ký không phát hiện sai lệch")
def history_intact(engine: Engine) -> None:
    report = engine.verify_history()
    assert report.ok, report.findings


@when(
    parsers.parse(
        'có người sửa trực tiếp trong cơ sở dữ liệu người thực hiện sự kiện số {seq:d} thành "{actor}"'
    )
)
def tamper_actor(engine: Engine, ctx: dict[str, Any], seq: int, actor: str) -> None:
    from sqlalchemy import text

    with engine.db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE case_events SET actor = :actor WHERE seq = :seq "
                "AND case_id = (SELECT id FROM cases WHERE code = :code)"
            ),
            {"actor": actor, "seq": seq, "code": ctx["code"]},
        )


@then(parsers.parse("kiểm tra toàn vẹn nhật ký báo hồ sơ sai lệch tại sự kiện số {seq:d}"))
def history_broken_at(engine: Engine, ctx: dict[str, Any], seq: int) -> None:
    findings = engine.verify_history().findings
    assert [(f.case, f.seq) for f in findings] == [(ctx["code"], seq)], findings


@then(parsers.parse('lệnh "{command}" kết thúc với mã lỗi {code:d}'))
def cli_exit_code(engine: Engine, command: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    import run

    assert run.main([*command.split(), "--db", engine.db.url]) == code
    assert "SAI LỆCH" in capsys.readouterr().out


@when(parsers.parse('hệ thống niêm phong nhật ký ngày "{day}"'))
def seal(engine: Engine, day: str) -> None:
    from datetime import date

    assert engine.seal_day(date.fromisoformat(day)).created


@when("có người xoá trực tiếp toàn bộ hồ sơ trong cơ sở dữ liệu")
def delete_case(engine: Engine, ctx: dict[str, Any]) -> None:
    from sqlalchemy import text

    with engine.db.engine.begin() as conn:
        case_id = conn.execute(text("SELECT id FROM cases WHERE code = :c"), {"c": ctx["code"]}).scalar_one()
        for table in ("case_events", "work_items", "timers", "outbox_messages"):
            conn.execute(text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case_id})
        conn.execute(text("DELETE FROM cases WHERE id = :c"), {"c": case_id})


@then("kiểm tra toàn vẹn nhật ký báo hồ sơ đã mất")
def case_missing(engine: Engine, ctx: dict[str, Any]) -> None:
    findings = engine.verify_history().findings
    assert [(f.case, f.problem) for f in findings] == [(ctx["code"], "case_missing")], findings


@then(
    parsers.parse(
        'dựng lại hồ sơ tại sự kiện bước "{element}" sẵn sàng thấy trạng thái {status:d} '
        'và công việc đang mở là "{task}" của vai trò "{role}"'
    )
)
def replay_at_ready(
    engine: Engine, ctx: dict[str, Any], element: str, status: int, task: str, role: str
) -> None:
    seq = next(
        e.seq for e in engine.events(ctx["code"]) if e.kind == "task_ready" and e.element_id == element
    )
    state = engine.replay_case(ctx["code"], seq).state
    assert state is not None and state.seq == seq and state.status == status
    assert [(t.element_id, t.role) for t in state.tasks] == [(task, role)]


@then("dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu")
def replay_matches(engine: Engine, ctx: dict[str, Any]) -> None:
    report = engine.replay_case(ctx["code"])
    assert report.ok and report.snapshot_differences == {}, (report.divergence, report.snapshot_differences)


@then(
    parsers.parse(
        'sổ theo dõi hồ sơ từ "{first}" đến "{last}" ghi hồ sơ với tình trạng "{status}" và ghi chú "{note}"'
    )
)
def register_row(engine: Engine, ctx: dict[str, Any], first: str, last: str, status: str, note: str) -> None:
    from datetime import date

    table = engine.dossier_register(date.fromisoformat(first), date.fromisoformat(last))
    rows = [dict(zip(table.headers, r, strict=True)) for r in table.rows if r[1] == ctx["code"]]
    assert len(rows) == 1 and rows[0]["Tình trạng"] == status and rows[0]["Ghi chú"] == note


@then(
    parsers.parse("báo cáo quý I năm {year:d} theo mốc ngày {day:d} có {count:d} hồ sơ giải quyết {outcome}")
)
def quarterly_finished(engine: Engine, year: int, day: int, count: int, outcome: str) -> None:
    from engine.reports import CutoffRule

    column = {"trước hạn": "finished_early", "đúng hạn": "finished_on_time", "quá hạn": "finished_late"}
    total = engine.periodic_report(year, "q1", CutoffRule(start_day=day)).total
    assert getattr(total, column[outcome]) == count


@then(
    parsers.parse(
        'bộ chỉ số 766 từ "{first}" đến "{last}" có chỉ số "{code}" đạt {percent:d} % và {points:d} điểm'
    )
)
def index_766(engine: Engine, first: str, last: str, code: str, percent: int, points: int) -> None:
    from datetime import date

    indicator = engine.scorecard_766(date.fromisoformat(first), date.fromisoformat(last)).indicator(code)
    assert indicator.rate is not None and round(indicator.rate * 100) == percent
    assert indicator.points == points
