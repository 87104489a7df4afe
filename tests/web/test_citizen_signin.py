"""Citizen sign-in by OIDC against the local test provider served on its own port (real HTTP, real
RS256 tokens): "Hồ sơ của tôi", submission as the signed-in citizen, sign-out, and every way the
answer can be wrong (state, nonce, forged signature, other audience) refused in Vietnamese with
nothing changed."""

from __future__ import annotations

import base64
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from engine.service import Engine
from tests.web.conftest import ACCEPT, TEST_CONFIG, Client
from tests.web.test_public import complete_form
from web.app import create_app
from web.oidc_provider import LocalProvider, create_provider_app

AN = "001090012345"  # Nguyễn Văn An, born 12/05/1990 (engine.identity.DEMO_CITIZENS)
BINH = "031185004321"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def provider() -> Iterator[tuple[LocalProvider, str]]:
    idp = LocalProvider()
    http = make_server("127.0.0.1", 0, create_provider_app(idp), threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="oidc-test-provider", daemon=True)
    thread.start()
    try:
        yield idp, f"http://127.0.0.1:{http.server_port}/oidc-test"
    finally:
        http.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def oidc_app(engine: Engine, provider: tuple[LocalProvider, str]) -> Flask:
    idp, issuer = provider
    config = {
        **TEST_CONFIG,
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": idp.client_id,
        "OIDC_CLIENT_SECRET": idp.client_secret,
    }
    return create_app(engine, config)


@pytest.fixture
def citizen(oidc_app: Flask) -> Client:
    return Client(oidc_app)


def provider_answer(client: Client, person: str, **tamper_state: str) -> str:
    """Start sign-in, let the provider (over HTTP) pick ``person``; the callback path+query."""
    start = client.get("/public/signin?next=/public/my")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{authorize}&{urlencode({'person': person})}")
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        back = exc.headers["Location"]
    else:  # pragma: no cover - the provider always redirects
        raise AssertionError("the provider did not redirect back")
    parts = urlsplit(back)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()} | tamper_state
    return f"{parts.path}?{urlencode(params)}"


def sign_in(client: Client, person: str = AN) -> Any:
    response = client.get(provider_answer(client, person))
    client._token = None  # a fresh session: a fresh CSRF token
    return response


def _counter_case(engine: Engine, cccd: str, name: str) -> str:
    view = engine.counter_intake(
        {
            "procedure_id": "diploma_copy",
            "channel": 1,
            "applicant": {"name": name, "id_number": cccd, "phone": "0905123456"},
        },
        actor=engine.actor("clerk"),
    )
    return view.code


def test_sign_in_lists_the_citizens_own_dossiers(engine: Engine, citizen: Client) -> None:
    mine = _counter_case(engine, "001 090 012345", "Nguyễn Văn An")  # typed with spaces at the desk
    _counter_case(engine, BINH, "Trần Thị Bình")
    assert citizen.get("/public/my").status_code == 302  # not signed in: off to the provider

    done = sign_in(citizen)
    assert done.status_code == 302 and done.headers["Location"] == "/public/my"
    page = citizen.get("/public/my").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and AN in page
    assert f'data-code="{mine}"' in page and page.count('class="proc my-dossier') == 1
    assert "Đăng xuất" in page and "Hồ sơ của tôi" in page

    listed = citizen.get("/api/public/my/cases").get_json()
    assert listed["citizen"]["cccd"] == AN
    assert [c["code"] for c in listed["cases"]] == [mine]
    assert listed["cases"][0]["status_label"] == "Mới đăng ký"

    detail = citizen.get(f"/public/my/{mine}")
    assert detail.status_code == 200 and mine in detail.get_data(as_text=True)
    others = engine.desk_queue(1)
    other = next(r.code for r in others if r.code != mine)
    assert citizen.get(f"/public/my/{other}").status_code == 404  # not theirs: like an unknown code


def test_api_list_needs_sign_in(citizen: Client) -> None:
    answer = citizen.get("/api/public/my/cases")
    assert answer.status_code == 401 and answer.get_json()["error"] == "unauthenticated"
    assert citizen.get("/api/public/my/cases/H99.12-260302-0001").status_code == 401


def test_api_submission_and_status_as_the_signed_in_citizen(engine: Engine, citizen: Client) -> None:
    sign_in(citizen)
    pdf = base64.b64encode(b"%PDF-1.7 don").decode()
    submitted = citizen.api(
        "POST",
        "/api/public/cases",
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Nguyễn Văn An", "phone": "0905123456"},
            "data": {
                "diploma_type": "thpt",
                "graduation_year": 2012,
                "school": "THPT Phan Châu Trinh",
                "copies": 1,
                "delivery": "in_person",
            },
            "documents": [
                {"code": c, "filename": f"{c}.pdf", "content_base64": pdf} for c in ("TP1", "TP2")
            ],
        },
    )
    assert submitted.status_code == 201, submitted.get_json()
    code = submitted.get_json()["code"]
    assert engine.get_case(code).applicant["id_number"] == AN
    status = citizen.get(f"/api/public/my/cases/{code.lower()}")
    assert status.status_code == 200 and status.get_json()["status_label"] == "Mới đăng ký"
    other = _counter_case(engine, BINH, "Trần Thị Bình")
    refused = citizen.get(f"/api/public/my/cases/{other}")
    assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"


def test_signed_in_submission_records_the_asserted_identity_once(engine: Engine, citizen: Client) -> None:
    sign_in(citizen)
    form = citizen.get("/public/procedures/diploma_copy/submit").get_data(as_text=True)
    assert 'id="signed-in-applicant"' in form and f'value="{AN}"' in form and "readonly" in form
    key = "k" * 24
    data = complete_form(applicant_name="Nguyễn Văn An", applicant_id_number="079203000777")
    first = citizen.post(
        "/public/procedures/diploma_copy/submit",
        {**data, "submission_key": key},
        content_type="multipart/form-data",
    )
    assert first.status_code == 302
    again = citizen.post(
        "/public/procedures/diploma_copy/submit",
        {**complete_form(applicant_name="Nguyễn Văn An"), "submission_key": key},
        content_type="multipart/form-data",
    )
    assert again.status_code == 302
    listed = citizen.get("/api/public/my/cases").get_json()["cases"]
    assert len(listed) == 1
    code = listed[0]["code"]
    case = engine.get_case(code)
    assert case.applicant["id_number"] == AN  # the verified CCCD, not the one typed
    checks = [e for e in engine.events(code) if e.kind == "identity_checked"]
    assert len(checks) == 1
    assert checks[0].payload["source"] == "portal" and checks[0].payload["outcome"] == "verified"
    assert checks[0].payload["cccd"] == AN


def test_signed_in_citizen_supplements_and_rates_without_the_secret(
    engine: Engine, citizen: Client
) -> None:
    code = _counter_case(engine, AN, "Nguyễn Văn An")
    clerk = engine.actor("clerk")
    engine.complete_work_item(
        code, "receipt_check", {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Mờ"}, clerk
    )
    sign_in(citizen)
    assert "Bổ sung hồ sơ" in citizen.get("/public/my").get_data(as_text=True)
    page = citizen.get(f"/public/my/{code}").get_data(as_text=True)
    assert 'id="supplement-form"' in page and 'name="secret" value=""' in page
    done = citizen.post(
        "/public/supplement",
        {"code": code, "secret": "", "doc_TP2": (io.BytesIO(b"%PDF-1.7 cccd"), "cccd.pdf")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 200 and "Đã gửi hồ sơ bổ sung" in done.get_data(as_text=True)
    assert engine.get_case(code).status == 1
    anonymous = Client(citizen.app)
    assert anonymous.post("/public/supplement", {"code": code, "secret": ""}).status_code == 404

    engine.complete_work_item(code, "receipt_check", ACCEPT, clerk)
    engine.complete_work_item(
        code, "verify_register", {"found": True, "register_ref": "S", "copies": 1}, engine.actor("specialist")
    )
    engine.complete_work_item(code, "approve_copy", {"approved": True}, engine.actor("head"))
    engine.complete_work_item(code, "return_result", {"returned_to": "An", "method": "in_person"}, clerk)
    assert 'id="rating-form"' in citizen.get(f"/public/my/{code}").get_data(as_text=True)
    assert anonymous.post("/public/rate", {"code": code, "secret": "", "score": "3"}).status_code == 404
    rated = citizen.post("/public/rate", {"code": code, "secret": "", "score": "2"})
    assert rated.status_code == 200 and 'id="rating-done"' in rated.get_data(as_text=True)
    assert engine.satisfaction().by_score == {2: 1}


def test_sign_out_forgets_the_citizen(citizen: Client) -> None:
    sign_in(citizen)
    assert citizen.get("/api/public/my/cases").status_code == 200
    out = citizen.post("/public/signout")
    assert out.status_code == 302
    assert citizen.get("/api/public/my/cases").status_code == 401
    assert "Đăng nhập công dân" in citizen.get("/").get_data(as_text=True)


def _refused(client: Client, path: str, code: str, text: str) -> None:
    answer = client.get(path)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400, body[:500]
    assert f'data-code="{code}"' in body and text in body
    client._token = None
    assert client.get("/api/public/my/cases").status_code == 401  # nothing changed: still signed out


def test_wrong_state_is_refused(citizen: Client) -> None:
    _refused(citizen, provider_answer(citizen, AN, state="khac"), "oidc_state_mismatch", "state")
    # A callback nobody started (no pending sign-in in the session) is refused the same way.
    _refused(citizen, "/public/signin/callback?code=x&state=y", "oidc_state_mismatch", "state")


def test_wrong_nonce_is_refused(citizen: Client, provider: tuple[LocalProvider, str]) -> None:
    provider[0].tamper["claims"] = {"nonce": "nonce-of-another-sign-in"}
    _refused(citizen, provider_answer(citizen, AN), "oidc_nonce_mismatch", "nonce không khớp")


def test_forged_signature_is_refused(citizen: Client, provider: tuple[LocalProvider, str]) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": provider[0].key.kid})
    provider[0].tamper["key"] = forger
    _refused(citizen, provider_answer(citizen, AN), "oidc_invalid_id_token", "không có chữ ký hợp lệ")


def test_token_for_another_application_is_refused(
    citizen: Client, provider: tuple[LocalProvider, str]
) -> None:
    provider[0].tamper["claims"] = {"aud": "ung-dung-khac"}
    _refused(citizen, provider_answer(citizen, AN), "oidc_invalid_id_token", "không dành cho hệ thống này")


def test_a_failed_sign_in_keeps_the_citizen_already_signed_in(
    citizen: Client, provider: tuple[LocalProvider, str]
) -> None:
    sign_in(citizen, BINH)
    provider[0].tamper["claims"] = {"nonce": "x"}
    answer = citizen.get(provider_answer(citizen, AN))
    assert answer.status_code == 400
    assert citizen.get("/api/public/my/cases").get_json()["citizen"]["cccd"] == BINH


def test_refusal_at_the_provider_is_reported(citizen: Client) -> None:
    answer = citizen.get(provider_answer(citizen, "deny"))
    assert answer.status_code == 400 and "từ chối" in answer.get_data(as_text=True)


def test_the_app_can_mount_the_test_provider(engine: Engine) -> None:
    app = create_app(engine, {**TEST_CONFIG, "OIDC_TEST_PROVIDER": True})
    client = Client(app)
    discovery = client.get("/oidc-test/.well-known/openid-configuration").get_json()
    assert discovery["issuer"] == "http://localhost/oidc-test"
    assert client.get("/oidc-test/jwks").get_json()["keys"][0]["kty"] == "RSA"
    query = {
        "client_id": "motcua-local",
        "response_type": "code",
        "code_challenge_method": "S256",
        "code_challenge": "x" * 43,
        "scope": "openid",
        "state": "s",
    }
    own_uri = "http://localhost/public/signin/callback"
    own = client.get("/oidc-test/authorize?" + urlencode({**query, "redirect_uri": own_uri}))
    assert own.status_code == 200 and 'id="idp-form"' in own.get_data(as_text=True)
    evil = "https://evil.example/cb"
    foreign = client.get("/oidc-test/authorize?" + urlencode({**query, "redirect_uri": evil}))
    assert foreign.status_code == 400  # not an open redirect
    home = client.get("/").get_data(as_text=True)
    assert 'id="citizen-signin"' in home
    plain = Client(create_app(engine, dict(TEST_CONFIG)))
    assert 'id="citizen-signin"' not in plain.get("/").get_data(as_text=True)
    assert plain.get("/oidc-test/jwks").status_code == 404
    refused = plain.get("/public/signin")
    assert refused.status_code == 404 and "chưa cấu hình đăng nhập" in refused.get_data(as_text=True)
    assert plain.get("/public/my").headers["Location"].endswith("/public/lookup")
