"""Unit checks: a step routed to another unit is neither listed, claimable, completable nor
reassignable by this unit's staff; the director works across units but keeps a step in its unit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from engine.errors import Forbidden
from engine.models import User, WorkItem
from engine.service import Engine
from engine.users import create_user
from tests.support.fixtures import TEST_PASSWORD
from tests.web.conftest import ACCEPT, submit_online

OTHER_UNIT = "Phòng Giáo dục thường xuyên"


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    with sqlite_engine.db.unit_of_work() as session:
        if session.scalar(select(User).where(User.username == "specialist_gdtx")) is None:
            create_user(
                session, "specialist_gdtx", "Chuyên viên GDTX", ["specialist"], TEST_PASSWORD, OTHER_UNIT
            )
    return sqlite_engine


def _routed_elsewhere(engine: Engine) -> tuple[str, str]:
    case = submit_online(engine)
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    task_id = engine.get_case(case.code).tasks[0].task_id
    with engine.db.unit_of_work() as session:
        session.execute(update(WorkItem).where(WorkItem.task_id == task_id).values(unit=OTHER_UNIT))
    return case.code, task_id


def test_other_units_steps_are_not_mine(engine: Engine, as_user: Any) -> None:
    code, task_id = _routed_elsewhere(engine)
    assert code not in as_user("specialist").get("/tasks/").get_data(as_text=True)
    assert code in as_user("specialist_gdtx").get("/tasks/").get_data(as_text=True)
    assert as_user("specialist").post(f"/tasks/{task_id}/claim").status_code == 403
    with pytest.raises(Forbidden):
        engine.complete_work_item(code, task_id, {"found": False}, engine.actor("specialist"))
    assert as_user("specialist_gdtx").post(f"/tasks/{task_id}/claim").status_code == 302


def test_heads_reassign_only_within_their_unit(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    task_id = engine.get_case(case.code).tasks[0].task_id
    head = as_user("head")
    page = head.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Chuyên viên GDTX" not in page and "Người dùng specialist" in page
    refused = head.post(f"/tasks/{task_id}/reassign", {"username": "specialist_gdtx"})
    assert refused.status_code == 403 and "đơn vị khác" in refused.get_data(as_text=True)
    # The step belongs to its unit: not even the director hands it to another unit's staff.
    director = as_user("director")
    assert "Chuyên viên GDTX" not in director.get(f"/cases/{case.code}").get_data(as_text=True)
    assert director.post(f"/tasks/{task_id}/reassign", {"username": "specialist_gdtx"}).status_code == 403
    assert director.post(f"/tasks/{task_id}/reassign", {"username": "specialist"}).status_code == 302


def test_the_case_page_names_the_steps_unit_and_offers_the_claim_only_to_it(
    engine: Engine, as_user: Any
) -> None:
    code, task_id = _routed_elsewhere(engine)
    mine = as_user("specialist_gdtx").get(f"/cases/{code}").get_data(as_text=True)
    assert f'<span class="unit">{OTHER_UNIT}</span>' in mine
    assert url_claim(task_id) in mine
    # another unit's specialist and the head (who reads every dossier) get no claim button
    for other in ("specialist", "head"):
        assert url_claim(task_id) not in as_user(other).get(f"/cases/{code}").get_data(as_text=True)


def url_claim(task_id: str) -> str:
    return f'action="/tasks/{task_id}/claim"'
