"""Where each role starts its day: the page that lists its work, not the public home page."""

from __future__ import annotations

from flask import url_for

from engine.users import Actor

#: First match wins: someone who is both clerk and specialist works the desk queue first.
ROLE_HOMES = (
    ("desk_clerk", "desk.queue"),
    ("specialist", "tasks.tasklist"),
    ("head_of_department", "tasks.tasklist"),
    ("director", "tasks.tasklist"),
    ("other_department", "tasks.tasklist"),
    ("designer", "designer.index"),
    ("auditor", "auditor.index"),
    ("admin", "admin.index"),
)


def role_home(actor: Actor) -> str:
    for role, endpoint in ROLE_HOMES:
        if actor.has_role(role):
            return url_for(endpoint)
    return url_for("public.home")
