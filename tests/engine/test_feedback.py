"""Complaints and feedback: filing (on a dossier, a procedure, anonymously), handling, publication,
rating, and the 766 indicators 5.1–5.3 computed from the records."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.digital_models import FeedbackItem
from engine.errors import ConflictError, Forbidden, NotFound, ValidationError
from engine.feedback import (
    answer_feedback,
    assign_feedback,
    feedback_board,
    feedback_for_citizen,
    feedback_numbers,
    file_feedback,
    get_feedback,
    publish_feedback,
    published_feedback,
    rate_feedback,
)
from engine.feedback_stats import FeedbackFact, indicators
from engine.service import Engine
from tests.support.fixtures import vn

APPLICANT = {"name": "Nguyễn Văn An"}


def _case(engine: Engine) -> tuple[str, str]:
    view = engine.start_case({"procedure_id": "diploma_copy", "applicant": APPLICANT}, engine.actor("clerk"))
    assert view.secret is not None
    return view.code, view.secret


def _count(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(FeedbackItem)) or 0)


def test_dossier_complaint_answered_published_and_rated(engine: Engine, clock: FixedClock) -> None:
    code, secret = _case(engine)
    filed = file_feedback(
        engine,
        {
            "kind": "complaint",
            "content": "Cán bộ hẹn trả kết quả nhưng đến nơi chưa có.",
            "case_code": code,
            "case_secret": secret.lower(),
            "name": "Nguyễn Văn An",
            "contact": "0912345678",
        },
    )
    assert filed.secret and filed.code.startswith("PAKN-260302-")
    assert (filed.case_code, filed.procedure_id, filed.status) == (code, "diploma_copy", "received")
    assert filed.due_at == vn(2026, 3, 23, 8, 0)  # 15 working days
    assign_feedback(engine, filed.code, "specialist", engine.actor("head"))
    clock.advance(timedelta(days=3))
    answered = answer_feedback(
        engine, filed.code, "Đã kiểm tra: kết quả trả ngày 5/3, xin lỗi ông.", engine.actor("specialist")
    )
    assert answered.publish_due_at == vn(2026, 3, 9, 8, 0)  # Thu 5/3 + 2 working days
    clock.advance(timedelta(hours=2))
    publish_feedback(engine, filed.code, engine.actor("head"))
    rated = rate_feedback(engine, filed.code, filed.secret, 3)
    assert (rated.status, rated.rating_label) == ("published", "Rất hài lòng")
    _, log = get_feedback(engine, filed.code, engine.actor("auditor"))
    assert [(e.seq, e.kind, e.actor) for e in log] == [
        (1, "feedback_received", "citizen"),
        (2, "feedback_assigned", "head"),
        (3, "feedback_answered", "specialist"),
        (4, "feedback_published", "head"),
        (5, "feedback_rated", "citizen"),
    ]
    assert log[2].payload == {"on_time": True, "publish_due_at": "2026-03-09T01:00:00+00:00"}
    public = published_feedback(engine)
    assert (
        [p.code for p in public] == [filed.code]
        and public[0].citizen_name is None
        and public[0].contact is None
    )
    assert feedback_for_citizen(engine, filed.code, filed.secret).rating == 3
    numbers = feedback_numbers(engine, date(2026, 3, 1), date(2026, 3, 31))
    assert [(i.code, i.numerator, i.denominator, i.points) for i in numbers.indicators] == [
        ("5.1", 1, 1, 5.0),
        ("5.2", 1, 1, 5.0),
        ("5.3", 1, 1, 2.0),
    ]
    # complaints are not case events
    assert not [e for e in engine.events(code) if e.kind.startswith("feedback")]


def test_wrong_secrets_are_refused_and_change_nothing(engine: Engine) -> None:
    code, _ = _case(engine)
    with pytest.raises(NotFound, match="Mã hồ sơ hoặc mã tra cứu không đúng"):
        file_feedback(
            engine,
            {
                "content": "Nội dung phản ánh đủ dài.",
                "case_code": code,
                "case_secret": "SAI",
                "anonymous": True,
            },
        )
    assert _count(engine) == 0
    filed = file_feedback(
        engine, {"content": "Thủ tục quá nhiều giấy tờ.", "procedure_id": "diploma_copy", "anonymous": True}
    )
    with pytest.raises(NotFound, match="Mã phản ánh hoặc mã tra cứu không đúng"):
        feedback_for_citizen(engine, filed.code, "SAI")
    with pytest.raises(NotFound, match="Mã phản ánh hoặc mã tra cứu không đúng"):
        rate_feedback(engine, filed.code, "SAI", 3)


def test_filing_input_is_checked(engine: Engine) -> None:
    anonymous = file_feedback(
        engine, {"kind": "proposal", "content": "Đề nghị nhận hồ sơ cả sáng thứ Bảy.", "anonymous": True}
    )
    assert (anonymous.anonymous, anonymous.citizen_name, anonymous.case_code, anonymous.kind_label) == (
        True,
        None,
        None,
        "Kiến nghị",
    )
    with pytest.raises(ValidationError, match="cần họ tên"):
        file_feedback(engine, {"content": "Nội dung phản ánh đủ dài."})
    with pytest.raises(ValidationError, match="at least 10"):
        file_feedback(engine, {"content": "ngắn", "anonymous": True})
    with pytest.raises(ValidationError, match="cần mã tra cứu"):
        file_feedback(engine, {"content": "Nội dung phản ánh đủ dài.", "case_code": "X", "anonymous": True})
    with pytest.raises(NotFound):
        file_feedback(
            engine, {"content": "Nội dung phản ánh đủ dài.", "procedure_id": "khong_co", "anonymous": True}
        )
    assert _count(engine) == 1


def test_roles_and_order_of_steps(engine: Engine) -> None:
    filed = file_feedback(engine, {"content": "Nội dung phản ánh đủ dài.", "anonymous": True})
    with pytest.raises(Forbidden):
        assign_feedback(engine, filed.code, "specialist", engine.actor("specialist"))
    with pytest.raises(ValidationError, match="Không có cán bộ 'designer'"):
        assign_feedback(engine, filed.code, "designer", engine.actor("head"))
    assign_feedback(engine, filed.code, "specialist", engine.actor("head"))
    with pytest.raises(Forbidden, match="được phân công"):
        answer_feedback(engine, filed.code, "Câu trả lời đủ dài.", engine.actor("clerk"))
    with pytest.raises(ConflictError, match="đã trả lời và chưa công khai"):
        publish_feedback(engine, filed.code, engine.actor("head"))
    with pytest.raises(ValidationError, match="ít nhất 10"):
        answer_feedback(engine, filed.code, "ngắn", engine.actor("specialist"))
    answer_feedback(engine, filed.code, "Câu trả lời đủ dài.", engine.actor("specialist"))
    with pytest.raises(ConflictError):
        answer_feedback(engine, filed.code, "Câu trả lời thứ hai.", engine.actor("head"))
    assert filed.secret is not None
    with pytest.raises(ConflictError, match="sau khi câu trả lời đã được công khai"):
        rate_feedback(engine, filed.code, filed.secret, 2)
    with pytest.raises(Forbidden):
        publish_feedback(engine, filed.code, engine.actor("specialist"))
    publish_feedback(engine, filed.code, engine.actor("director"))
    with pytest.raises(ValidationError, match="Mức đánh giá"):
        rate_feedback(engine, filed.code, filed.secret, 5)
    rate_feedback(engine, filed.code, filed.secret, 1)
    with pytest.raises(ConflictError, match="đã được đánh giá"):
        rate_feedback(engine, filed.code, filed.secret, 3)
    with pytest.raises(Forbidden):
        feedback_board(engine, engine.actor("designer"))


def test_board_colours_and_a_late_repeat(engine: Engine, clock: FixedClock) -> None:
    code, secret = _case(engine)
    body = {
        "content": "Nội dung phản ánh đủ dài.",
        "case_code": code,
        "case_secret": secret,
        "anonymous": True,
    }
    first = file_feedback(engine, body)
    clock.advance(timedelta(days=16))  # 2 March + 16 days: 12 of 15 working days used
    second = file_feedback(engine, body)
    assert second.repeated_of == first.id
    colours = {row.item.code: row.colour for row in feedback_board(engine, engine.actor("head"))}
    assert colours == {first.code: "amber", second.code: "green"}
    clock.advance(timedelta(days=7))
    colours = {row.item.code: row.colour for row in feedback_board(engine, engine.actor("head"))}
    assert colours[first.code] == "red"
    numbers = feedback_numbers(engine, date(2026, 3, 1), date(2026, 3, 31))
    assert (numbers.received, numbers.overdue, numbers.repeated, numbers.published) == (2, 1, 1, 0)
    assert [(i.code, i.numerator, i.denominator) for i in numbers.indicators] == [
        ("5.1", 0, 2),
        ("5.2", 0, 2),
        ("5.3", 0, 2),
    ]


def _fact(
    day: int, answered: int | None, published: int | None, rating: int | None = None, repeated: bool = False
) -> FeedbackFact:
    def at(d: int | None) -> datetime | None:
        return vn(2026, 3, d, 9, 0) if d is not None else None

    received = vn(2026, 3, day, 9, 0)
    return FeedbackFact(
        received_at=received,
        due_at=received + timedelta(days=10),
        answered_at=at(answered),
        publish_due_at=(at(answered) + timedelta(days=2)) if answered is not None else None,  # type: ignore[operator]
        published_at=at(published),
        rating=rating,
        repeated=repeated,
    )


def test_indicators_by_hand() -> None:
    facts = [
        _fact(2, 5, 6, rating=3),  # on time, happy
        _fact(2, 5, 6, rating=1),  # on time, not satisfied
        _fact(2, 14, 15),  # answered late (due 12th)
        _fact(3, 4, 9),  # published late (due 6th)
        _fact(25, None, None),  # open, due 4 April: not late at the end of March
        _fact(4, 6, 7, repeated=True),  # on time but a repeat
        _fact(28, 29, 30),  # on time
    ]
    result = indicators(facts, vn(2026, 3, 1, 0, 0), vn(2026, 4, 1, 0, 0), vn(2026, 3, 31, 12, 0))
    assert (
        result.received,
        result.published,
        result.on_time,
        result.overdue,
        result.dissatisfied,
        result.repeated,
    ) == (
        7,
        6,
        4,
        2,
        1,
        1,
    )
    five_one, five_two, five_three = result.indicators
    assert (five_one.numerator, five_one.points) == (6, round(6 / 7 * 5, 4))
    assert (five_two.numerator, five_two.points) == (4, round(4 / 7 * 5, 4))
    # 7 − (not satisfied 1 + overdue 2 + repeated 1) = 3
    assert (five_three.numerator, five_three.points) == (3, round(3 / 7 * 2, 4))
    empty = indicators([], vn(2026, 3, 1, 0, 0), vn(2026, 4, 1, 0, 0), vn(2026, 3, 31, 12, 0))
    assert [i.rate for i in empty.indicators] == [None, None, None]
