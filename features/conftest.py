"""Vietnamese step definitions shared by every feature (pytest-bdd).

Steps talk to the real engine (SpiffWorkflow + SQLite/PostgreSQL via the ``engine`` fixture), with
the injected clock moved by "thời gian trôi tới".
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from engine.audit import GENESIS, chain_hash, event_content
from engine.clock import FixedClock
from engine.errors import Forbidden
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
