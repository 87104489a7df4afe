"""Designer pages: designers only; validation answers point at elements; deploy makes version N+1."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from engine.domain.vocab import STEP_KIND_LABELS
from engine.service import Engine
from tests.engine.test_designer import restore_library
from tests.support.fixtures import one_unit_library
from tests.web.conftest import Client

# The library the test database deployed (its lanes routed to the test accounts' unit).
LIBRARY = one_unit_library()
DIPLOMA = (LIBRARY / "diploma_copy.bpmn").read_text(encoding="utf-8")
NO_ROLE = DIPLOMA.replace('<motcua:step role="specialist" hours="4"/>', "", 1)
XXE = DIPLOMA.replace(
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    1,
)


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """The pages are thin; the engine tests cover both databases."""
    yield sqlite_engine
    restore_library(sqlite_engine.db)


@pytest.mark.parametrize("user", ["clerk", "specialist", "head", "director", "auditor", "admin"])
def test_only_designers_reach_the_designer(as_user: object, user: str) -> None:
    client: Client = as_user(user)  # type: ignore[operator]
    for url in ("/designer/", "/designer/diploma_copy/edit", "/designer/diploma_copy/source"):
        assert client.get(url).status_code == 403
    for url in ("/designer/diploma_copy/validate", "/designer/diploma_copy/deploy"):
        assert client.api("POST", url, json={"xml": DIPLOMA}).status_code == 403
    assert "Thiết kế quy trình" not in client.get("/").get_data(as_text=True)


def test_versions_list_download_and_editor_page(as_user: object) -> None:
    designer: Client = as_user("designer")  # type: ignore[operator]
    page = designer.get("/designer/").get_data(as_text=True)
    assert "Thiết kế quy trình" in page and "Phiên bản đầu tiên" in page and "Tải BPMN" in page
    download = designer.get("/designer/diploma_copy/download?version=1")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == DIPLOMA.encode()
    assert designer.get("/designer/diploma_copy/download?version=9").status_code == 404
    edit = designer.get("/designer/diploma_copy/edit").get_data(as_text=True)
    assert "vendor/designer.js" in edit and 'data-validate-url="/designer/diploma_copy/validate"' in edit
    # The side form's step kinds are served from the one registry (engine.domain.vocab), not copied.
    kinds = re.search(r'data-step-kinds="([^"]*)"', edit)
    assert kinds is not None
    assert json.loads(html.unescape(kinds.group(1))) == STEP_KIND_LABELS


def test_validate_points_at_elements_and_deploy_refuses_then_creates(as_user: object, engine: Engine) -> None:
    designer: Client = as_user("designer")  # type: ignore[operator]
    report = designer.api("POST", "/designer/diploma_copy/validate", json={"xml": NO_ROLE}).get_json()
    assert report["ok"] is False
    assert any(i["element_id"] == "verify_register" and i["severity"] == "error" for i in report["issues"])
    refused = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": XXE})
    assert refused.status_code == 422
    assert "DTD" in refused.get_json()["issues"][0]["message"]
    assert [v.version for v in engine.procedure_versions("diploma_copy")] == [1]

    changed = DIPLOMA.replace('fee="0"', 'fee="5000"', 1)
    assert designer.api("POST", "/designer/diploma_copy/validate", json={"xml": changed}).get_json()["ok"]
    deployed = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": changed}).get_json()
    assert deployed["ok"] and deployed["version"] == 2 and "fee" in deployed["summary"]
    again = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": changed}).get_json()
    assert again["created"] is False and again["version"] == 2
    other = LIBRARY.joinpath("student_transfer.bpmn").read_text(encoding="utf-8")
    mismatch = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": other})
    assert mismatch.status_code == 422
    assert "Thông tin thủ tục: fee" in designer.get("/designer/").get_data(as_text=True)


def test_oversized_and_empty_uploads_are_refused(as_user: object) -> None:
    designer: Client = as_user("designer")  # type: ignore[operator]
    huge = DIPLOMA.replace("<bpmn:collaboration", "<!--" + "x" * 2_100_000 + "--><bpmn:collaboration", 1)
    report = designer.api("POST", "/designer/diploma_copy/validate", json={"xml": huge}).get_json()
    assert report["ok"] is False and "vượt quá kích thước" in report["issues"][0]["message"]
    empty = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": ""})
    assert empty.status_code == 422


def test_save_draft_reopen_and_discard(as_user: object, engine: Engine) -> None:
    designer: Client = as_user("designer")  # type: ignore[operator]
    assert designer.get("/designer/diploma_copy/draft").status_code == 404
    saved = designer.api("POST", "/designer/diploma_copy/draft", json={"xml": NO_ROLE})
    body = saved.get_json()
    assert saved.status_code == 200 and body["saved"] is True and body["ok"] is False
    assert any(i["element_id"] == "verify_register" for i in body["issues"])
    assert body["saved_by"] == "designer" and body["saved_at"]
    assert engine.procedure("diploma_copy").version == 1  # saving deploys nothing

    edit = designer.get("/designer/diploma_copy/edit").get_data(as_text=True)
    assert 'data-xml-url="/designer/diploma_copy/draft"' in edit
    assert "bản nháp" in edit and "chưa hợp lệ" in edit
    assert designer.get("/designer/diploma_copy/draft").get_data(as_text=True) == NO_ROLE

    # Unsafe or misfiled XML is refused with a reason and leaves the stored draft as it was.
    for xml, status in ((XXE, 422), (DIPLOMA.replace('id="diploma_copy"', 'id="other"'), 422)):
        refused = designer.api("POST", "/designer/diploma_copy/draft", json={"xml": xml})
        assert refused.status_code == status, refused.get_json()
        assert refused.get_json()["saved"] is False and refused.get_json()["message"]
    assert engine.draft("diploma_copy").xml == NO_ROLE  # type: ignore[union-attr]

    discarded = designer.post("/designer/diploma_copy/draft/discard")
    assert discarded.status_code == 302
    assert engine.draft("diploma_copy") is None
    edit = designer.get("/designer/diploma_copy/edit").get_data(as_text=True)
    assert 'data-xml-url="/designer/diploma_copy/source"' in edit


def test_deploying_drops_the_draft(as_user: object, engine: Engine) -> None:
    designer: Client = as_user("designer")  # type: ignore[operator]
    changed = DIPLOMA.replace('role="specialist" hours="4"', 'role="specialist" hours="3"', 1)
    assert designer.api("POST", "/designer/diploma_copy/draft", json={"xml": changed}).get_json()["ok"]
    assert engine.draft("diploma_copy").valid  # type: ignore[union-attr]
    deployed = designer.api("POST", "/designer/diploma_copy/deploy", json={"xml": changed}).get_json()
    assert deployed["ok"] and deployed["version"] == 2
    assert engine.draft("diploma_copy") is None


def test_version_list_shows_deploy_times_in_local_time(as_user: Any, engine: Engine) -> None:
    from engine.sla import LOCAL_TZ

    page = as_user("designer").get("/designer/").get_data(as_text=True)
    view = engine.procedure("diploma_copy")
    local = view.deployed_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
    utc = view.deployed_at.strftime("%d/%m/%Y %H:%M")
    assert local in page and local != utc and utc not in page
