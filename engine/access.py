"""Who may see and change what: the one access policy of dossiers and their steps.

Pure functions of an :class:`~engine.users.Actor` and what is known about a dossier or a step (its
units, role, holder); each answers a :class:`Decision` (allowed, or denied with the Vietnamese reason
shown to the user). The web pages, the JSON API and the CLI all reach these through ``Engine``
(``Engine.authorize_case`` and the operations themselves), so a rule changes in one place.

The rules (issue 16):

* A step belongs to the unit its BPMN lane (or the step's own assignment) names; a step routed to no
  unit belongs to everyone holding its role.
* Reading a dossier: the desk, the heads and the director of the agency and the auditors read every
  dossier; a specialist or a coordinating department (``other_department``) reads only the dossiers
  sent to its unit (a step of the dossier, open or done, routed there — or routed to no unit but to
  its role).
* Changing a dossier (attaching files, apologies, results, withdrawals): the desk and the director
  on every dossier; heads, specialists and coordinating departments only on dossiers sent to their
  unit. Auditors read only.
* Claiming and completing a step: its role, and its unit (the director works across units).
* Releasing a step: its holder, or a leader of the step's unit (the director: any).
* Reassigning: a leader of the step's unit, to a colleague of that unit holding the step's role.

An account without a unit is not "every unit": it sees only steps routed to no unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from .domain.vocab import LEADERS, Role
from .users import CITIZEN_ACTOR, SYSTEM_ACTOR, Actor

#: Roles that read every dossier of the agency.
AGENCY_READERS = frozenset({Role.DESK_CLERK, Role.HEAD_OF_DEPARTMENT, Role.DIRECTOR, Role.AUDITOR})
#: Roles that change every dossier of the agency (within what their role allows).
AGENCY_WRITERS = frozenset({Role.DESK_CLERK, Role.DIRECTOR})
#: Roles that read or change a dossier only when it was sent to their unit.
UNIT_ROLES = frozenset({Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT, Role.OTHER_DEPARTMENT})

NOT_YOUR_UNIT = "Hồ sơ không thuộc đơn vị của bạn: chỉ đơn vị được giao xử lý mới được xem và thao tác"
READ_ONLY = "Vai trò của bạn chỉ được xem hồ sơ, không được thay đổi"
NO_CASE_ROLE = "Vai trò của bạn không được xem hồ sơ"


class Action(StrEnum):
    """What is done to a dossier."""

    READ = "read"
    CHANGE = "change"


@dataclass(frozen=True)
class Decision:
    """Allowed, or denied with the reason shown to the user."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class Routing:
    """Where one step of a dossier was sent: its role and unit (None = to the role, in any unit)."""

    role: str | None
    unit: str | None


#: Where a dossier's steps went, or a function answering it (asked only when a rule needs it: the
#: desk, the director and the agency's readers are decided by role, without reading the steps).
Steps = Iterable[Routing] | Callable[[], Iterable[Routing]]


def _sent_to(actor: Actor, found: Steps) -> bool:
    steps = found() if callable(found) else found
    """Whether some step of the dossier was routed to the actor's unit (or to its role, unit-less)."""
    for step in steps:
        if step.unit is None:
            if step.role is not None and step.role in actor.roles:
                return True
        elif actor.unit is not None and step.unit == actor.unit:
            return True
    return False


def _trusted(actor: Actor) -> bool:
    """The engine itself (timers, the console's ``system`` account) is not a person to restrict; the
    applicant acts only on their own dossier, after the lookup-secret check (``engine.citizen``) or
    from the console. Neither name can be a staff account (``engine.accounts.RESERVED_USERNAMES``)."""
    return actor.username in (SYSTEM_ACTOR, CITIZEN_ACTOR)


def case_decision(actor: Actor, action: Action, steps: Steps) -> Decision:
    """May ``actor`` read (or change) a dossier whose steps were routed as ``steps``?"""
    if _trusted(actor):
        return ALLOW
    roles = actor.roles
    if action is Action.READ:
        if roles & AGENCY_READERS:
            return ALLOW
        if roles & UNIT_ROLES:
            return ALLOW if _sent_to(actor, steps) else deny(NOT_YOUR_UNIT)
        return deny(NO_CASE_ROLE)
    if roles & AGENCY_WRITERS:
        return ALLOW
    if roles & UNIT_ROLES:
        return ALLOW if _sent_to(actor, steps) else deny(NOT_YOUR_UNIT)
    if roles & AGENCY_READERS:
        return deny(READ_ONLY)
    return deny(NO_CASE_ROLE)


def same_unit(actor: Actor, unit: str | None) -> bool:
    """A step routed to ``unit`` is the actor's: no unit (the role's), the actor's own, or the
    director (who works across units)."""
    return unit is None or Role.DIRECTOR in actor.roles or (actor.unit is not None and actor.unit == unit)


def unit_refusal(unit: str | None) -> str:
    return f"Công việc thuộc đơn vị '{unit}', không thuộc đơn vị của bạn"


def step_decision(actor: Actor, step: Routing) -> Decision:
    """May ``actor`` claim or complete a step (role and unit)? The claim rule is the caller's."""
    if actor.username == SYSTEM_ACTOR:
        return ALLOW
    if not actor.has_role(step.role):
        return deny(f"Bạn không có vai trò '{step.role}' để xử lý công việc này")
    if not same_unit(actor, step.unit):
        return deny(unit_refusal(step.unit))
    return ALLOW


def release_decision(actor: Actor, step: Routing, assignee: str | None) -> Decision:
    """May ``actor`` give a claimed step back to its unit's pool?"""
    if actor.username == SYSTEM_ACTOR or (assignee is not None and assignee == actor.username):
        return ALLOW
    if actor.roles & LEADERS and same_unit(actor, step.unit):
        return ALLOW
    if assignee is None and step_decision(actor, step):
        return ALLOW  # nothing to give back: a no-op for someone who may work the step
    if actor.roles & LEADERS:
        return deny(unit_refusal(step.unit))
    return deny("Chỉ người đang xử lý hoặc lãnh đạo mới được trả lại công việc")


def reassign_decision(actor: Actor, step: Routing, target: Actor | None = None) -> Decision:
    """May ``actor`` hand the step to ``target`` (or to anyone, when None)? Whether the target holds
    the step's role is a validation, not an access rule."""
    if not actor.roles & LEADERS:
        return deny("Chỉ lãnh đạo phòng hoặc lãnh đạo Sở được phân công lại công việc")
    if not same_unit(actor, step.unit):
        return deny(unit_refusal(step.unit))
    if target is None:
        return ALLOW
    if step.unit is not None and target.unit != step.unit:
        return deny(f"'{target.full_name}' thuộc đơn vị khác; chỉ phân công trong đơn vị của công việc")
    if step.unit is None and Role.DIRECTOR not in actor.roles and target.unit != actor.unit:
        return deny(f"'{target.full_name}' thuộc đơn vị khác; chỉ phân công trong đơn vị của mình")
    return ALLOW


def sees_step(actor: Actor, step: Routing) -> bool:
    """Whether a step appears in the actor's unit queue (its role and unit)."""
    return step.role in actor.roles and same_unit(actor, step.unit)
