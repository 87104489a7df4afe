"""The OIDC relying party on its own: the provider's documents are served from memory (the HTTP path is
exercised in tests/web/test_citizen_signin.py), tokens are real RS256 JWTs signed with joserfc."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from engine.oidc import (
    InvalidIdToken,
    NonceMismatch,
    OidcClient,
    OidcSettings,
    ProviderUnavailable,
    StateMismatch,
    code_challenge,
)

ISSUER = "https://dinhdanh.example.vn"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class FakeProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.published = [self.key]
        self.jwks_fetches = 0
        self.token_requests: list[Mapping[str, str]] = []
        self.id_token = ""

    def fetch(self, method: str, url: str, form: Mapping[str, str] | None, headers: Mapping[str, str]) -> Any:
        if url.endswith("/.well-known/openid-configuration"):
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
            }
        if url.endswith("/jwks"):
            self.jwks_fetches += 1
            return {"keys": [k.as_dict(private=False) for k in self.published]}
        if url.endswith("/token"):
            assert form is not None and headers["Authorization"].startswith("Basic ")
            self.token_requests.append(form)
            return {"id_token": self.id_token}
        raise AssertionError(url)

    def sign(self, key: Any = None, alg: str = "RS256", **claims: Any) -> str:
        body = {
            "iss": ISSUER,
            "sub": "s-1",
            "aud": "motcua",
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 600,
            "nonce": "n-1",
            "name": "Nguyễn Văn An",
            "birthdate": "1990-05-12",
            "cccd": "001090012345",
        }
        body.update(claims)
        signer = key or self.key
        return jwt.encode({"alg": alg, "kid": getattr(signer, "kid", None) or "k1"}, body, signer)


@pytest.fixture
def idp() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def client(idp: FakeProvider) -> OidcClient:
    return OidcClient(OidcSettings(ISSUER, "motcua", "bi-mat"), fetch=idp.fetch)


def test_the_whole_flow_sends_pkce_and_returns_the_verified_citizen(
    idp: FakeProvider, client: OidcClient
) -> None:
    url, pending = client.begin("https://motcua.example.vn/public/signin/callback", NOW)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/auth?")
    assert query["code_challenge"] == code_challenge(pending.code_verifier)
    assert query["state"] == pending.state and query["nonce"] == pending.nonce
    idp.id_token = idp.sign(nonce=pending.nonce)
    who = client.finish(pending, {"state": pending.state, "code": "c-1"}, NOW + timedelta(seconds=30))
    assert (who.cccd, who.full_name, who.birthdate) == ("001090012345", "Nguyễn Văn An", date(1990, 5, 12))
    assert idp.token_requests[0]["code_verifier"] == pending.code_verifier


def test_state_must_match_and_not_be_stale(client: OidcClient) -> None:
    _, pending = client.begin("https://motcua.example.vn/cb", NOW)
    with pytest.raises(StateMismatch):
        client.finish(pending, {"state": "other", "code": "c"}, NOW)
    with pytest.raises(StateMismatch):
        client.finish(None, {"state": pending.state, "code": "c"}, NOW)
    with pytest.raises(StateMismatch):
        client.finish(pending, {"state": pending.state, "code": "c"}, NOW + timedelta(minutes=11))


def test_forged_unsigned_or_shared_secret_tokens_are_refused(idp: FakeProvider, client: OidcClient) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    for token in (
        idp.sign(key=stranger),
        idp.sign(key=OctKey.generate_key(256), alg="HS256"),
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
        "not-a-token",
    ):
        with pytest.raises(InvalidIdToken):
            client.verify_id_token(token, "n-1", NOW)


def test_claims_are_checked(idp: FakeProvider, client: OidcClient) -> None:
    with pytest.raises(NonceMismatch):
        client.verify_id_token(idp.sign(nonce="n-2"), "n-1", NOW)
    with pytest.raises(NonceMismatch):
        client.verify_id_token(idp.sign(nonce=None), "n-1", NOW)
    for claims in ({"aud": "khac"}, {"iss": "https://gia-mao.example"}, {"aud": ["motcua", "khac"]}):
        with pytest.raises(InvalidIdToken):
            client.verify_id_token(idp.sign(**claims), "n-1", NOW)
    with pytest.raises(InvalidIdToken, match="hết hạn"):
        client.verify_id_token(idp.sign(), "n-1", NOW + timedelta(hours=1))
    assert client.verify_id_token(idp.sign(aud=["motcua", "khac"], azp="motcua"), "n-1", NOW)["sub"] == "s-1"


def test_a_rotated_key_is_fetched_once(idp: FakeProvider, client: OidcClient) -> None:
    client.verify_id_token(idp.sign(), "n-1", NOW)
    assert idp.jwks_fetches == 1
    new = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    idp.published = [idp.key, new]
    assert client.verify_id_token(idp.sign(key=new), "n-1", NOW)["cccd"] == "001090012345"
    assert idp.jwks_fetches == 2
    client.verify_id_token(idp.sign(key=new), "n-1", NOW)
    assert idp.jwks_fetches == 2


def test_the_cccd_claim_must_be_there_and_follow_its_layout(idp: FakeProvider, client: OidcClient) -> None:
    with pytest.raises(InvalidIdToken, match="không có số CCCD"):
        client.citizen_from_claims({"sub": "s", "name": "A"})
    with pytest.raises(InvalidIdToken, match="không hợp lệ"):
        client.citizen_from_claims({"cccd": "001095012345", "birthdate": "1990-05-12"})  # year 95 ≠ 1990
    with pytest.raises(InvalidIdToken, match="12 chữ số"):
        client.citizen_from_claims({"cccd": "12345"})
    assert client.citizen_from_claims({"cccd": "001 090 012345"}).cccd == "001090012345"


def test_a_provider_claiming_another_issuer_is_refused(idp: FakeProvider) -> None:
    client = OidcClient(OidcSettings("https://khac.example.vn", "motcua", "x"), fetch=idp.fetch)
    with pytest.raises(ProviderUnavailable):
        client.metadata()
