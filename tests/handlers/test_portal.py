"""Status sync with a fake national portal on 127.0.0.1: every DVCQG status, in order, despite 500s."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import FixedClock
from engine.outbox import STATUS_SYNC
from engine.service import Engine
from handlers import HandlerSettings, build_handlers
from tests.engine.helpers import deploy_fixture
from tests.handlers.conftest import FakeHttp

APPLICANT = {"name": "Đỗ Văn Cổng"}


def _deliver_all(engine: Engine, settings: HandlerSettings, clock: FixedClock, passes: int = 30) -> None:
    handlers = build_handlers(settings, engine)
    for _ in range(passes):
        engine.deliver_outbox(handlers)
        clock.advance(timedelta(seconds=70))  # past any backoff of the first attempts


def test_portal_receives_each_status_change_in_order(
    engine: Engine, fake_http: FakeHttp, lease_clock: FixedClock
) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code
    engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    settings = HandlerSettings(portal_status_url=f"{fake_http.url}/dvcqg/trangthai", portal_token="tok")
    _deliver_all(engine, settings, lease_clock, passes=5)
    received = [r.json() for r in fake_http.requests]
    expected = [e.status_to for e in engine.events(code) if e.status_to is not None]
    assert [r["TrangThai"] for r in received] == expected
    assert expected[0] == 1 and expected[-1] == 10
    assert received[-1] == {
        "MaHoSo": code,
        "MaTTHC": "0.000001",
        "TrangThai": 10,
        "TrangThaiTruoc": 4,
        "MoTa": "Đã trả kết quả",
        "ThoiGian": received[-1]["ThoiGian"],
    }
    assert all(r.headers["authorization"] == "Bearer tok" for r in fake_http.requests)
    assert all(r.path == "/dvcqg/trangthai" for r in fake_http.requests)


def test_portal_answering_500_is_retried_and_order_is_kept(
    engine: Engine, fake_http: FakeHttp, lease_clock: FixedClock
) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code
    engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    fake_http.fail_next = 3  # the portal is down for the first three calls
    _deliver_all(engine, HandlerSettings(portal_status_url=fake_http.url), lease_clock)
    statuses = [r.json()["TrangThai"] for r in fake_http.requests]
    expected = [e.status_to for e in engine.events(code) if e.status_to is not None]
    # The first status is tried four times (three 500s, then accepted); nothing overtakes it.
    assert statuses == [expected[0]] * 4 + expected[1:]
    keys = [r.headers["idempotency-key"] for r in fake_http.requests]
    assert len(set(keys[:4])) == 1 and len(set(keys)) == len(expected)
    sync = [m for m in engine.case_outbox(code) if m.handler == STATUS_SYNC]
    assert [(m.state, m.attempts) for m in sync] == [("delivered", 4)] + [("delivered", 1)] * (len(sync) - 1)
    assert engine.incidents() == []


def test_portal_rejecting_a_payload_opens_an_incident(
    engine: Engine, fake_http: FakeHttp, lease_clock: FixedClock
) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code
    fake_http.fail_next, fake_http.status_on_failure = 1, 400
    _deliver_all(engine, HandlerSettings(portal_status_url=fake_http.url), lease_clock, passes=3)
    [incident] = engine.incidents()
    assert incident.case_code == code and "HTTP 400" in incident.error and incident.attempts == 1
    assert len(fake_http.requests) == 1  # later statuses wait behind the failed one
    engine.retry_incident(incident.id, engine.actor("admin"))
    _deliver_all(engine, HandlerSettings(portal_status_url=fake_http.url), lease_clock, passes=3)
    expected = [e.status_to for e in engine.events(code) if e.status_to is not None]
    assert [r.json()["TrangThai"] for r in fake_http.requests] == [expected[0], *expected]
