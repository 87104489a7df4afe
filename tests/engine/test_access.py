"""The access policy (engine/access.py) as pure decisions: who reads and changes a dossier, who works,
releases and reassigns a step, by role and unit."""

from __future__ import annotations

from engine.access import (
    Action,
    Routing,
    case_decision,
    reassign_decision,
    release_decision,
    sees_step,
    step_decision,
)
from engine.users import CITIZEN, SYSTEM, Actor

GD, QLCL, KHTC = "Phòng GD", "Phòng QLCL", "Phòng KHTC"
SENT = [Routing("desk_clerk", "Một cửa"), Routing("specialist", GD), Routing("other_department", KHTC)]


def who(role: str, unit: str | None, name: str = "") -> Actor:
    return Actor(name or f"{role}-{unit}", f"Người {role}", frozenset({role}), unit)


def test_agency_readers_read_every_dossier_units_only_theirs() -> None:
    for role in ("desk_clerk", "head_of_department", "director", "auditor"):
        assert case_decision(who(role, QLCL), Action.READ, SENT)
    assert case_decision(who("specialist", GD), Action.READ, SENT)
    assert case_decision(who("other_department", KHTC), Action.READ, SENT)
    refused = case_decision(who("specialist", QLCL), Action.READ, SENT)
    assert not refused and "không thuộc đơn vị của bạn" in refused.reason
    assert not case_decision(who("other_department", QLCL), Action.READ, SENT)
    assert not case_decision(who("specialist", None), Action.READ, SENT)  # no unit is not every unit
    assert not case_decision(who("admin", None), Action.READ, SENT)
    assert not case_decision(who("designer", None), Action.READ, SENT)


def test_a_step_sent_to_a_role_without_unit_is_readable_by_that_role() -> None:
    sent = [Routing("other_department", None)]
    assert case_decision(who("other_department", KHTC), Action.READ, sent)
    assert not case_decision(who("specialist", KHTC), Action.READ, sent)


def test_changes_desk_and_director_everywhere_units_only_theirs_auditors_never() -> None:
    assert case_decision(who("desk_clerk", "Một cửa"), Action.CHANGE, SENT)
    assert case_decision(who("director", "Ban Giám đốc"), Action.CHANGE, SENT)
    assert case_decision(who("head_of_department", GD), Action.CHANGE, SENT)
    assert not case_decision(who("head_of_department", QLCL), Action.CHANGE, SENT)
    assert case_decision(who("other_department", KHTC), Action.CHANGE, SENT)
    assert not case_decision(who("other_department", QLCL), Action.CHANGE, SENT)
    auditor = case_decision(who("auditor", None), Action.CHANGE, SENT)
    assert not auditor and "chỉ được xem" in auditor.reason
    assert case_decision(SYSTEM, Action.CHANGE, SENT) and case_decision(CITIZEN, Action.CHANGE, SENT)


def test_steps_by_role_and_unit_director_across_units() -> None:
    step = Routing("specialist", GD)
    assert step_decision(who("specialist", GD), step)
    assert "đơn vị" in step_decision(who("specialist", QLCL), step).reason
    assert not step_decision(who("head_of_department", GD), step)
    assert step_decision(Actor("d", "D", frozenset({"director", "specialist"}), "Ban"), step)
    assert step_decision(who("specialist", QLCL), Routing("specialist", None))
    assert sees_step(who("specialist", GD), step) and not sees_step(who("specialist", QLCL), step)
    assert not step_decision(CITIZEN, step)  # the applicant never works a staff step


def test_release_by_holder_or_a_leader_of_the_steps_unit() -> None:
    step = Routing("specialist", GD)
    holder = who("specialist", QLCL, "an")
    assert release_decision(holder, step, "an")
    assert release_decision(who("head_of_department", GD), step, "an")
    assert not release_decision(who("head_of_department", QLCL), step, "an")
    assert release_decision(who("director", "Ban"), step, "an")
    assert not release_decision(who("specialist", GD), step, "an")
    assert not release_decision(who("desk_clerk", GD), step, None)


def test_reassign_within_the_steps_unit() -> None:
    step = Routing("specialist", GD)
    head = who("head_of_department", GD)
    assert reassign_decision(head, step, who("specialist", GD))
    assert "đơn vị khác" in reassign_decision(head, step, who("specialist", QLCL)).reason
    assert not reassign_decision(who("head_of_department", QLCL), step)
    assert not reassign_decision(who("director", "Ban"), step, who("specialist", QLCL))
    assert reassign_decision(who("director", "Ban"), step, who("specialist", GD))
    assert not reassign_decision(who("specialist", GD), step)
