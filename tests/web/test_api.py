"""The JSON API: operations, OpenAPI document, and 4xx JSON errors for bad input (never 500)."""

from __future__ import annotations

import base64
from typing import Any

from engine.service import Engine
from tests.web.conftest import ACCEPT, Client


def staff(app_client: Client, username: str) -> Client:
    response = app_client.api("POST", "/api/login", {"username": username, "password": "matkhau-thu-nghiem"})
    assert response.status_code == 200, response.get_json()
    app_client._token = None
    return app_client


def online(name: str, **extra: Any) -> dict[str, Any]:
    """A complete online submission of the diploma copy: its fields and both required files."""
    pdf = base64.b64encode(b"%PDF-1.7 test").decode()
    return {
        "procedure_id": "diploma_copy",
        "applicant": {"name": name},
        "data": {
            "diploma_type": "thpt",
            "graduation_year": 2010,
            "school": "THPT Huế",
            "copies": 1,
            "delivery": "post",
        },
        "documents": [
            {"code": "TP1", "filename": "don.pdf", "content_base64": pdf},
            {"code": "TP2", "filename": "cccd.pdf", "content_base64": pdf},
        ],
        **extra,
    }


def test_full_flow_over_the_api(engine: Engine, app: Any) -> None:
    citizen = Client(app)
    submitted = citizen.api("POST", "/api/public/cases", online("Võ Thị Cúc"))
    assert submitted.status_code == 201
    code, secret = submitted.get_json()["code"], submitted.get_json()["secret"]
    clerk = staff(Client(app), "clerk")
    assert clerk.get("/api/me").get_json()["roles"] == ["desk_clerk"]
    tasks = clerk.get(f"/api/cases/{code}/tasks").get_json()
    assert [t["element_id"] for t in tasks] == ["receipt_check"]
    assert tasks[0]["form"]["properties"]["decision"]["enum"] == ["accept", "supplement", "refuse"]
    done = clerk.api("POST", f"/api/cases/{code}/tasks/{tasks[0]['task_id']}/complete", {"data": ACCEPT})
    assert done.status_code == 200 and done.get_json()["status"] == 4
    specialist = staff(Client(app), "specialist")
    mine = specialist.get("/api/tasks?scope=unit").get_json()
    assert [r["case_code"] for r in mine] == [code] and mine[0]["colour"] == "green"
    task_id = mine[0]["task_id"]
    assert (
        specialist.api("POST", f"/api/tasks/{task_id}/claim").get_json()["tasks"][0]["assignee"]
        == "specialist"
    )
    version = specialist.get(f"/api/cases/{code}").get_json()["version"]
    done = specialist.api(
        "POST",
        f"/api/cases/{code}/tasks/{task_id}/complete",
        {"data": {"found": True, "register_ref": "S1", "copies": 1}, "expected_version": version},
    )
    assert done.status_code == 200
    events = specialist.get(f"/api/cases/{code}/events").get_json()
    assert any(e["kind"] == "task_claimed" for e in events)
    looked = Client(app).api("POST", "/api/lookup", {"code": code, "secret": secret})
    assert looked.status_code == 200 and looked.get_json()["status"] == 4
    assert "applicant" not in looked.get_json()


def test_counter_case_and_procedures(engine: Engine, app: Any) -> None:
    assert any(p["procedure_id"] == "diploma_copy" for p in Client(app).get("/api/procedures").get_json())
    clerk = staff(Client(app), "clerk")
    created = clerk.api(
        "POST", "/api/cases", {"procedure_id": "diploma_copy", "applicant": {"name": "A"}, "channel": 3}
    )
    assert created.status_code == 201 and created.get_json()["channel"] == 3 and created.get_json()["secret"]


def test_errors_are_json_with_stable_codes(engine: Engine, app: Any) -> None:
    clerk = staff(Client(app), "clerk")
    raw = clerk.http.post(
        "/api/cases",
        data="{not json",
        content_type="application/json",
        headers={"X-CSRFToken": clerk.token()},
    )
    assert raw.status_code == 400 and raw.get_json()["error"] == "bad_request"
    assert raw.get_json()["message"] == "Dữ liệu JSON không hợp lệ"
    form = clerk.http.post("/api/cases", data={"a": "b"}, headers={"X-CSRFToken": clerk.token()})
    assert form.status_code == 400 and form.get_json()["error"] == "bad_request"
    array = clerk.api("POST", "/api/cases", [1, 2])
    assert array.status_code == 422 and array.get_json()["error"] == "validation_error"
    types = clerk.api(
        "POST", "/api/cases", {"procedure_id": 5, "applicant": {"name": ["x"]}, "channel": "mot"}
    )
    body = types.get_json()
    assert types.status_code == 422 and body["error"] == "validation_error"
    assert {"procedure_id", "applicant.name", "channel"} <= {f["field"] for f in body["details"]["fields"]}
    unknown = clerk.api("POST", "/api/cases", {"procedure_id": "khong_co", "applicant": {"name": "A"}})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"
    missing = clerk.get("/api/cases/H99.12-000000-0000")
    assert missing.status_code == 404 and missing.get_json()["message"].startswith("Không tìm thấy hồ sơ")
    no_route = clerk.get("/api/khong-co")
    assert no_route.status_code == 404 and no_route.get_json()["error"] == "not_found"
    wrong_method = clerk.api("DELETE", "/api/procedures")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
    task = clerk.api("POST", "/api/cases/H99.12-000000-0000/tasks/x/complete", {"data": {}})
    assert task.status_code == 404
    extra = clerk.api("POST", "/api/lookup", {"code": "a", "secret": "b", "x": 1})
    assert extra.status_code == 422
    bad_filter = clerk.get("/api/tasks?limit=nhieu")
    assert bad_filter.status_code == 422 and bad_filter.get_json()["error"] == "validation_error"


def test_form_data_errors_name_fields(engine: Engine, app: Any) -> None:
    citizen = Client(app)
    code = citizen.api("POST", "/api/public/cases", online("B")).get_json()["code"]
    clerk = staff(Client(app), "clerk")
    response = clerk.api(
        "POST", f"/api/cases/{code}/tasks/receipt_check/complete", {"data": {"decision": "maybe"}}
    )
    assert response.status_code == 422
    fields = response.get_json()["details"]["fields"]
    assert fields[0]["field"] == "decision" and "danh sách" in fields[0]["message"]
    incomplete = clerk.api(
        "POST",
        f"/api/cases/{code}/tasks/receipt_check/complete",
        {"data": {"decision": "accept", "checked_documents": []}},
    )
    assert incomplete.status_code == 422 and incomplete.get_json()["details"]["missing"] == ["TP1", "TP2"]
    not_a_dict = clerk.api("POST", f"/api/cases/{code}/tasks/receipt_check/complete", {"data": [1]})
    assert not_a_dict.status_code == 422
    as_specialist = staff(Client(app), "specialist")
    forbidden = as_specialist.api("POST", f"/api/cases/{code}/tasks/receipt_check/complete", {"data": ACCEPT})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"


def test_login_errors(app: Any) -> None:
    client = Client(app)
    bad = client.api("POST", "/api/login", {"username": "clerk", "password": "sai"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "invalid_credentials"
    assert client.api("POST", "/api/login", {"username": ""}).status_code == 422
    assert client.get("/api/me").status_code == 401


def test_ratings_over_the_api(engine: Engine, app: Any) -> None:
    citizen = Client(app)
    sub = citizen.api("POST", "/api/public/cases", online("C")).get_json()
    early = citizen.api("POST", "/api/ratings", {"code": sub["code"], "secret": sub["secret"], "score": 3})
    assert early.status_code == 422
    wrong = citizen.api("POST", "/api/ratings", {"code": sub["code"], "secret": "x", "score": 3})
    assert wrong.status_code == 404 and wrong.get_json()["message"] == "Mã hồ sơ hoặc mã tra cứu không đúng"
    invalid = citizen.api("POST", "/api/ratings", {"code": sub["code"], "secret": sub["secret"], "score": 9})
    assert invalid.status_code == 422


def test_openapi_document(app: Any) -> None:
    doc = Client(app).get("/api/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    assert {
        "CaseView",
        "TaskView",
        "EventView",
        "ProcedureView",
        "ApiError",
        "CompleteRequest",
        "TaskRow",
    } <= set(schemas)
    assert schemas["Applicant"]["properties"]["name"]["maxLength"] == 300
    assert "/api/cases/{code}/tasks/{task_id}/complete" in doc["paths"]
    op = doc["paths"]["/api/cases/{code}/tasks/{task_id}/complete"]["post"]
    assert (
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/CompleteRequest"
    )
    refs = _refs(doc)
    assert refs and all(r.split("/")[-1] in schemas for r in refs)
    flask_rules = {str(r.rule) for r in app.url_map.iter_rules() if str(r.rule).startswith("/api/")}
    documented = {p.replace("{", "<").replace("}", ">") for p in doc["paths"]} | {"/api/openapi.json"}
    assert flask_rules == documented


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_desk_queue_apology_withdrawal_and_documents_over_the_api(
    engine: Engine, app: Any, clock: Any
) -> None:
    import hashlib
    import io
    from datetime import timedelta

    citizen = Client(app)
    sub = citizen.api("POST", "/api/public/cases", online("D"))
    code, secret = sub.get_json()["code"], sub.get_json()["secret"]
    clerk = staff(Client(app), "clerk")
    queue = clerk.get("/api/desk/queue?status=1").get_json()
    assert [r["code"] for r in queue] == [code] and queue[0]["remaining_hours"] == 8.0
    assert clerk.get("/api/desk/queue?status=4").status_code == 422
    content = b"%PDF-1.7 api upload"
    uploaded = clerk.http.post(
        f"/api/cases/{code}/documents",
        data={"document_code": "TP1", "file": (io.BytesIO(content), "don.pdf")},
        headers={"X-CSRFToken": clerk.token()},
        content_type="multipart/form-data",
    )
    assert (
        uploaded.status_code == 201 and uploaded.get_json()["sha256"] == hashlib.sha256(content).hexdigest()
    )
    no_file = clerk.http.post(f"/api/cases/{code}/documents", data={}, headers={"X-CSRFToken": clerk.token()})
    assert no_file.status_code == 422 and no_file.get_json()["details"]["fields"][0]["field"] == "file"
    assert [d["filename"] for d in clerk.get(f"/api/cases/{code}/documents").get_json()] == [
        "don.pdf",
        "cccd.pdf",
        "don.pdf",
    ]
    clerk.api("POST", f"/api/cases/{code}/tasks/receipt_check/complete", {"data": ACCEPT})
    due = engine.get_case(code).due_at
    assert due is not None
    clock.set(due - timedelta(hours=1))
    naive = clerk.api(
        "POST",
        f"/api/cases/{code}/apology",
        {"new_due": "2026-03-05T16:00:00", "reason": "r", "unit_at_fault": "u"},
    )
    assert naive.status_code == 422  # a moment without its offset is ambiguous
    head = staff(Client(app), "head")
    apologised = head.api(
        "POST",
        f"/api/cases/{code}/apology",
        {"new_due": "2026-03-05T16:00:00+07:00", "reason": "Chờ xác minh", "unit_at_fault": "QLCL"},
    )
    assert apologised.status_code == 200 and apologised.get_json()["sla"]["apologies"] == 1
    asked = citizen.api(
        "POST", "/api/public/withdrawal", {"code": code, "secret": secret, "reason": "Không cần nữa"}
    )
    assert asked.status_code == 200 and asked.get_json()["status"] == 7
    wrong = citizen.api("POST", "/api/public/withdrawal", {"code": code, "secret": "X", "reason": "r"})
    assert wrong.status_code == 404
    stopped = head.api("POST", f"/api/cases/{code}/withdrawal/confirm")
    assert stopped.status_code == 200 and stopped.get_json()["status"] == 8
    again = clerk.api("POST", f"/api/cases/{code}/withdrawal", {"reason": "x"})
    assert again.status_code == 422


def test_multipart_field_name_that_cannot_be_read_is_a_bad_request(engine: Engine, app: Any) -> None:
    """Found by the schemathesis run: werkzeug reads such a part's name as None, which ended in a 500
    inside Flask-WTF's token lookup."""
    clerk = staff(Client(app), "clerk")
    case = clerk.api(
        "POST", "/api/cases", {"procedure_id": "diploma_copy", "applicant": {"name": "Tạ Văn Bình"}}
    ).get_json()
    boundary = "motcua-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="'.encode()
        + b"a\rb"  # a bare carriage return inside the quoted name
        + f'"\r\n\r\nx\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--{boundary}--\r\n'.encode()
    )
    answer = clerk.http.post(
        f"/api/cases/{case['code']}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-CSRFToken": clerk.token()},
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert "tên trường không đọc được" in answer.get_json()["message"]
    assert engine.list_documents(case["code"]) == []


def test_online_submission_over_the_api_checks_everything_and_is_idempotent(engine: Engine, app: Any) -> None:
    citizen = Client(app)
    incomplete = citizen.api(
        "POST",
        "/api/public/cases",
        {"procedure_id": "diploma_copy", "applicant": {"name": "", "phone": "abc"}},
    )
    assert incomplete.status_code == 422
    fields = {p["field"]: p["message"] for p in incomplete.get_json()["details"]["fields"]}
    assert (
        fields["applicant.name"] == "bắt buộc" and fields["applicant.phone"] == "số điện thoại không hợp lệ"
    )
    assert "Field required" not in incomplete.get_data(as_text=True)
    key = {"Idempotency-Key": "retry-key-0123456789abcdef"}
    first = citizen.api("POST", "/api/public/cases", online("Võ Văn Lặp"), headers=key)
    again = citizen.api("POST", "/api/public/cases", online("Võ Văn Lặp"), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["code"] == again.get_json()["code"]
    assert first.get_json()["secret"] == again.get_json()["secret"]
    assert [r.code for r in engine.desk_queue(1)] == [first.get_json()["code"]]
    bad_key = citizen.api("POST", "/api/public/cases", online("X"), headers={"Idempotency-Key": "ngắn"})
    assert bad_key.status_code == 422


def test_desk_reissues_a_lookup_secret(engine: Engine, app: Any) -> None:
    citizen = Client(app)
    done = citizen.api("POST", "/api/public/cases", online("Phan Thị Quên")).get_json()
    code, old = done["code"], done["secret"]
    assert citizen.api("POST", f"/api/cases/{code}/secret").status_code in (401, 403)
    clerk = staff(Client(app), "clerk")
    issued = clerk.api("POST", f"/api/cases/{code}/secret")
    assert issued.status_code == 201
    new = issued.get_json()["secret"]
    assert new != old and len(new) == 16
    assert engine.lookup(code, new).code == code
    lookup_old = citizen.api("POST", "/api/lookup", {"code": code, "secret": old})
    assert lookup_old.status_code == 404
    event = engine.events(code)[-1]
    assert event.kind == "secret_reissued" and event.payload == {} and event.actor == "clerk"
    assert old not in str([e.payload for e in engine.events(code)]) and new not in str(engine.events(code))
