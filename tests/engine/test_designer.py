"""Designer checks: every hostile or broken upload is refused with a clear message, and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from engine.db import Database
from engine.designer import diff_versions, validate_upload
from engine.errors import Forbidden, ProcedureError, UnsafeXmlError
from engine.models import ProcedureVersion
from engine.service import Engine
from engine.users import Actor
from engine.xmlsafe import MAX_BPMN_BYTES
from tests.engine.helpers import DESIGNER
from tests.support.fixtures import clean, one_unit_library

# The library the test database deployed (its lanes routed to the test accounts' unit).
LIBRARY = one_unit_library()
SHARED = {f"shared/{p.name}": p.read_bytes() for p in sorted((LIBRARY / "shared").glob("*.bpmn"))}
DIPLOMA = (LIBRARY / "diploma_copy.bpmn").read_text(encoding="utf-8")
ESTABLISHMENT = (LIBRARY / "language_centre_establishment.bpmn").read_text(encoding="utf-8")
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'


def restore_library(db: Database) -> None:
    """Drop versions the designer deployed and make the library's versions latest again.

    The shared ``clean`` alone drops them but leaves no version marked latest for a library procedure.
    """
    clean(db)
    with db.unit_of_work() as session:
        session.execute(update(ProcedureVersion).values(is_latest=True))


@pytest.fixture
def engine(engine: Engine) -> Iterator[Engine]:
    yield engine
    restore_library(engine.db)


def edited(text: str, old: str, new: str) -> bytes:
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


def xxe() -> bytes:
    doctype = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    return edited(DIPLOMA, PROLOG, PROLOG + doctype).replace(b'name="Ch', b'name="&x;Ch', 1)


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return edited(DIPLOMA, PROLOG, PROLOG + f"<!DOCTYPE d [{''.join(entities)}]>").replace(
        b'name="Ch', b'name="&lol9;Ch', 1
    )


def oversized() -> bytes:
    padding = "<!--" + "x" * (MAX_BPMN_BYTES + 10) + "-->"
    return edited(DIPLOMA, PROLOG, PROLOG + padding)


MISSING_ROLE = edited(DIPLOMA, '<motcua:step role="specialist" hours="4"/>', "")
BAD_TIMER = edited(ESTABLISHMENT, ">working_days(10)<", ">working_days(10<")
ESCAPING_TIMER = edited(ESTABLISHMENT, ">working_days(10)<", ">().__class__.__bases__[0].__subclasses__()<")
ESCAPING_CONDITION = edited(DIPLOMA, '>decision == "accept"<', ">__import__('os').system('id')<")

# name, file name, bytes, what the message must say, the element it must point at
REFUSED = [
    ("xxe", "diploma_copy.bpmn", xxe(), "DTD", None),
    ("billion-laughs", "diploma_copy.bpmn", billion_laughs(), "DTD", None),
    ("oversized", "diploma_copy.bpmn", oversized(), "vượt quá kích thước", None),
    ("missing-role", "diploma_copy.bpmn", MISSING_ROLE, "thiếu thông tin bước", "verify_register"),
    ("bad-timer", "language_centre_establishment.bpmn", BAD_TIMER, "không hợp lệ", "supplement_timeout"),
    ("escaping-timer", "language_centre_establishment.bpmn", ESCAPING_TIMER, "'_'", "supplement_timeout"),
    (
        "escaping-condition",
        "diploma_copy.bpmn",
        ESCAPING_CONDITION,
        "import",
        "flow_gw_received_to_verify_register",
    ),
]


@pytest.mark.parametrize(("name", "file", "data", "says", "element"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_uploads_say_why_and_where(
    name: str, file: str, data: bytes, says: str, element: str | None
) -> None:
    report = validate_upload(file, data, SHARED)
    assert not report.ok
    matching = [i for i in report.errors if says in i.message]
    assert matching, [i.message for i in report.errors]
    if element is not None:
        assert any(i.element_id == element for i in matching), matching


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.bpmn")), ids=lambda p: p.stem)
def test_every_library_procedure_passes(path: Path) -> None:
    report = validate_upload(path.name, path.read_bytes(), SHARED)
    assert report.ok, report.errors
    assert report.procedure_id == path.stem


def test_structure_rules_find_disconnected_nodes_and_implicit_splits() -> None:
    lonely = '<bpmn:task id="lonely" name="Việc lạc"/>\n    <bpmn:startEvent id="start"'
    data = edited(DIPLOMA, '<bpmn:startEvent id="start"', lonely)
    report = validate_upload("diploma_copy.bpmn", data, SHARED)
    assert any(i.element_id == "lonely" and i.source == "structure" for i in report.errors)
    split = edited(
        DIPLOMA,
        '<bpmn:sequenceFlow id="flow_start_to_call_receipt"',
        '<bpmn:sequenceFlow id="flow_extra" sourceRef="verify_register" targetRef="gw_found"/>\n'
        '    <bpmn:sequenceFlow id="flow_start_to_call_receipt"',
    )
    report = validate_upload("diploma_copy.bpmn", split, SHARED)
    assert any(i.element_id == "verify_register" and "tách luồng ngầm" in i.message for i in report.errors)


def test_diff_names_added_removed_changed_and_metadata() -> None:
    old = {"diploma_copy.bpmn": DIPLOMA.encode()}
    new_text = DIPLOMA.replace('role="specialist" hours="4"', 'role="specialist" hours="3"').replace(
        'fee="0"', 'fee="5000"'
    )
    start = '<bpmn:startEvent id="start"'
    new_text = new_text.replace(start, '<bpmn:task id="extra" name="Việc mới"/>\n    ' + start)
    diff = diff_versions(old, {"diploma_copy.bpmn": new_text.encode()})
    assert [c.element_id for c in diff.added] == ["extra"]
    assert diff.removed == []
    assert [(c.element_id, c.fields) for c in diff.changed] == [("verify_register", ("số giờ",))]
    assert diff.procedure_fields == ["fee"]
    summary = diff.summary()
    assert "Thêm 1 phần tử (Việc mới [extra])" in summary and "Thông tin thủ tục: fee" in summary
    assert diff_versions(None, old).summary() == "Phiên bản đầu tiên"
    moved = DIPLOMA.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)
    assert diff_versions(old, {"diploma_copy.bpmn": moved.encode()}).summary() == "Chỉ thay đổi bố cục sơ đồ"


def _version_count(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(ProcedureVersion)) or 0)


def test_engine_deploys_only_clean_files_by_designers(engine: Engine) -> None:
    before = _version_count(engine)
    for _name, file, data, _says, _element in REFUSED:
        with pytest.raises(ProcedureError) as refused:
            engine.deploy_designed(file.removesuffix(".bpmn"), data, DESIGNER)
        assert refused.value.details["issues"]
    clerk = Actor("clerk", "Tiếp nhận", frozenset({"desk_clerk"}))
    with pytest.raises(Forbidden):
        engine.deploy_designed("diploma_copy", DIPLOMA.encode(), clerk)
    with pytest.raises(Forbidden):  # the raw import path is guarded too
        engine.deploy("diploma_copy.bpmn", DIPLOMA.encode(), {}, clerk)
    assert _version_count(engine) == before

    changed = edited(DIPLOMA, 'role="specialist" hours="4"', 'role="specialist" hours="3"')
    view, diff, created = engine.deploy_designed("diploma_copy", changed, DESIGNER)
    assert created and view.version == 2 and view.deployed_by == "designer"
    assert [c.element_id for c in diff.changed] == ["verify_register"]
    history = engine.procedure_history("diploma_copy")
    assert [v.version for v, _ in history] == [1, 2]
    assert history[1][1].changed[0].fields == ("số giờ",)
    assert engine.procedure_file("diploma_copy", 2) == ("diploma_copy.bpmn", changed)
    assert engine.procedure_file("diploma_copy")[1] == changed
    assert engine.procedure_file("diploma_copy", 1)[1] == DIPLOMA.encode()


def test_drafts_are_stored_for_designers_only_and_never_when_unsafe(engine: Engine) -> None:
    clerk = Actor("clerk", "Tiếp nhận", frozenset({"desk_clerk"}))
    with pytest.raises(Forbidden):
        engine.save_draft("diploma_copy", DIPLOMA.encode(), clerk)
    with pytest.raises(Forbidden):
        engine.discard_draft("diploma_copy", clerk)
    unsafe = DIPLOMA.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>',
        1,
    )
    with pytest.raises(UnsafeXmlError):
        engine.save_draft("diploma_copy", unsafe.encode(), DESIGNER)
    assert engine.draft("diploma_copy") is None

    broken = edited(DIPLOMA, 'role="specialist" hours="4"', 'role="specialist" hours="-4"')
    draft, report = engine.save_draft("diploma_copy", broken, DESIGNER)
    assert not report.ok and not draft.valid and draft.base_version == 1
    assert engine.draft("diploma_copy") == draft
    fixed = edited(DIPLOMA, 'role="specialist" hours="4"', 'role="specialist" hours="3"')
    draft, report = engine.save_draft("diploma_copy", fixed, DESIGNER)  # the last save wins
    assert report.ok and draft.valid and engine.draft("diploma_copy").xml == fixed.decode()  # type: ignore[union-attr]
    assert engine.discard_draft("diploma_copy", DESIGNER) is True
    assert engine.discard_draft("diploma_copy", DESIGNER) is False
