"""Citizen sign-in by OpenID Connect (the national VNeID/DVCQG single sign-on speaks it).

The provider is configured by its issuer URL: its discovery document names the authorization, token
and key endpoints. The flow is the authorization code flow with PKCE (S256); ``state`` ties the
answer to the browser session that asked, ``nonce`` ties the ID token to that same request, and the
ID token's signature is checked against the provider's published keys (JWKS) with joserfc — only
asymmetric algorithms, never ``none`` or a shared-secret HMAC. The token's CCCD claim is what links
the person to their dossiers (:class:`engine.citizen.VerifiedCitizen`).

Nothing here knows about Flask: the web layer keeps :class:`PendingSignIn` in the browser's session
between :meth:`OidcClient.begin` and :meth:`OidcClient.finish`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from .cccd import parse_cccd
from .citizen import VerifiedCitizen
from .errors import MotcuaError
from .text import cccd_key

#: Signature algorithms an ID token may use: public-key ones only (a forged "none"/HS256 is refused).
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY_SECONDS = 60
#: How long a started sign-in may wait for the provider's answer.
PENDING_SECONDS = 600


class SignInError(MotcuaError):
    """Sign-in through the identity provider failed; the session is left as it was."""

    code = "sign_in_failed"
    http_status = 400


class StateMismatch(SignInError):
    code = "oidc_state_mismatch"


class NonceMismatch(SignInError):
    code = "oidc_nonce_mismatch"


class InvalidIdToken(SignInError):
    code = "oidc_invalid_id_token"


class SignInRefused(SignInError):
    code = "oidc_refused"


class ProviderUnavailable(SignInError):
    code = "oidc_provider_unavailable"
    http_status = 502


class SignInNotConfigured(SignInError):
    code = "oidc_not_configured"
    http_status = 404


@dataclass(frozen=True)
class OidcSettings:
    """Where the provider is and who we are to it (client id and secret come from the environment)."""

    issuer: str
    client_id: str
    client_secret: str
    cccd_claim: str = "cccd"
    scopes: str = "openid profile"
    timeout: float = 5.0


def oidc_settings_from_env() -> OidcSettings | None:
    """``MOTCUA_OIDC_ISSUER`` (+ ``_CLIENT_ID``, ``_CLIENT_SECRET``, ``_CCCD_CLAIM``, ``_SCOPES``);
    None when sign-in is not configured."""
    issuer = os.environ.get("MOTCUA_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    return OidcSettings(
        issuer=issuer.rstrip("/"),
        client_id=os.environ.get("MOTCUA_OIDC_CLIENT_ID", ""),
        client_secret=os.environ.get("MOTCUA_OIDC_CLIENT_SECRET", ""),
        cccd_claim=os.environ.get("MOTCUA_OIDC_CCCD_CLAIM", "cccd"),
        scopes=os.environ.get("MOTCUA_OIDC_SCOPES", "openid profile"),
    )


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser session keeps while the citizen is at the provider."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: float  # POSIX seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingSignIn:
        return cls(
            str(data["state"]),
            str(data["nonce"]),
            str(data["code_verifier"]),
            str(data["redirect_uri"]),
            float(data["started_at"]),
        )


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


#: (method, url, form body or None, headers) → parsed JSON; raises ProviderUnavailable.
Fetch = Callable[[str, str, Mapping[str, str] | None, Mapping[str, str]], Any]


def http_fetch(timeout: float) -> Fetch:
    """JSON over HTTP(S) with urllib; every failure becomes :class:`ProviderUnavailable`."""

    def fetch(method: str, url: str, form: Mapping[str, str] | None, headers: Mapping[str, str]) -> Any:
        data = urllib.parse.urlencode(form).encode("ascii") if form is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Accept": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                body = json.loads(exc.read().decode("utf-8"))
                detail = f" ({body.get('error')})" if isinstance(body, dict) and body.get("error") else ""
            except (OSError, ValueError):
                pass
            raise ProviderUnavailable(
                f"Nhà cung cấp định danh trả lời mã {exc.code}{detail}. Vui lòng đăng nhập lại."
            ) from exc
        except (OSError, ValueError) as exc:
            raise ProviderUnavailable(
                "Không kết nối được nhà cung cấp định danh. Vui lòng thử lại sau hoặc tra cứu bằng "
                "mã hồ sơ và mã tra cứu."
            ) from exc

    return fetch


class OidcClient:
    """One relying party of one provider: discovery and keys are fetched once and cached (the keys
    again when a token names a key we do not have yet: the provider rotated them)."""

    def __init__(self, settings: OidcSettings, fetch: Fetch | None = None) -> None:
        self.settings = settings
        self._fetch = fetch or http_fetch(settings.timeout)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # ------------------------------------------------------------------ provider documents
    def metadata(self) -> dict[str, Any]:
        """The discovery document; its ``issuer`` must be the configured one (no mix-up)."""
        if self._metadata is None:
            url = f"{self.settings.issuer.rstrip('/')}/.well-known/openid-configuration"
            doc = self._fetch("GET", url, None, {})
            wanted = self.settings.issuer.rstrip("/")
            if not isinstance(doc, dict) or str(doc.get("issuer") or "").rstrip("/") != wanted:
                raise ProviderUnavailable("Tài liệu cấu hình của nhà cung cấp định danh không hợp lệ")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(doc.get(key), str):
                    raise ProviderUnavailable(f"Nhà cung cấp định danh không khai báo {key}")
            self._metadata = doc
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            body = self._fetch("GET", self.metadata()["jwks_uri"], None, {})
            try:
                self._keys = KeySet.import_key_set(body)
            except (ValueError, TypeError, KeyError, jose_errors.JoseError) as exc:
                raise ProviderUnavailable(
                    "Bộ khóa công khai (JWKS) của nhà cung cấp định danh không đọc được"
                ) from exc
        return self._keys

    # ------------------------------------------------------------------ the flow
    def begin(self, redirect_uri: str, now: datetime) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the browser to, and what to keep meanwhile."""
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=redirect_uri,
            started_at=now.timestamp(),
        )
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        endpoint = str(self.metadata()["authorization_endpoint"])
        joiner = "&" if "?" in endpoint else "?"
        return f"{endpoint}{joiner}{urllib.parse.urlencode(query)}", pending

    def finish(
        self, pending: PendingSignIn | None, params: Mapping[str, str], now: datetime
    ) -> VerifiedCitizen:
        """Check the answer against what was asked, exchange the code, verify the ID token."""
        returned_state = params.get("state") or ""
        if pending is None or not hmac.compare_digest(pending.state.encode(), returned_state.encode()):
            raise StateMismatch(
                "Phiên đăng nhập không khớp hoặc đã được dùng (tham số state sai). "
                "Vui lòng bấm “Đăng nhập” để bắt đầu lại."
            )
        if now.timestamp() - pending.started_at > PENDING_SECONDS:
            raise StateMismatch("Phiên đăng nhập đã quá 10 phút. Vui lòng bấm “Đăng nhập” để bắt đầu lại.")
        if params.get("error"):
            reason = params.get("error_description") or params["error"]
            raise SignInRefused(f"Nhà cung cấp định danh không cho đăng nhập: {reason}")
        code = params.get("code") or ""
        if not code:
            raise SignInRefused("Nhà cung cấp định danh không trả về mã cấp quyền (code)")
        tokens = self._exchange(code, pending)
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise InvalidIdToken("Nhà cung cấp định danh không trả về mã định danh (ID token)")
        claims = self.verify_id_token(id_token, pending.nonce, now)
        return self.citizen_from_claims(claims)

    def _exchange(self, code: str, pending: PendingSignIn) -> Any:
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
            "client_id": self.settings.client_id,
        }
        headers: dict[str, str] = {}
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            pair = (
                f"{urllib.parse.quote(self.settings.client_id, safe='')}:"
                f"{urllib.parse.quote(self.settings.client_secret, safe='')}"
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_secret"] = self.settings.client_secret
        return self._fetch("POST", str(meta["token_endpoint"]), form, headers)

    # ------------------------------------------------------------------ the ID token
    def verify_id_token(self, token: str, nonce: str, now: datetime) -> dict[str, Any]:
        """The claims of an ID token whose signature, issuer, audience, lifetime and nonce check out."""
        forged = InvalidIdToken(
            "Mã định danh (ID token) không có chữ ký hợp lệ của nhà cung cấp định danh; "
            "chưa đăng nhập. Vui lòng đăng nhập lại."
        )
        algorithms = list(ID_TOKEN_ALGORITHMS)
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=algorithms)
            except jose_errors.InvalidKeyIdError:
                # A key we have not seen: the provider may have rotated its keys since we fetched them.
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=algorithms)
        except (ValueError, jose_errors.JoseError) as exc:
            raise forged from exc
        claims = dict(decoded.claims)
        registry = JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_SECONDS,
            # The issuer exactly as the provider spells it (a trailing slash is part of the claim).
            iss={"essential": True, "value": str(self.metadata()["issuer"])},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except jose_errors.ExpiredTokenError as exc:
            raise InvalidIdToken("Mã định danh (ID token) đã hết hạn. Vui lòng đăng nhập lại.") from exc
        except jose_errors.JoseError as exc:
            raise InvalidIdToken(
                "Mã định danh (ID token) không dành cho hệ thống này (nhà cung cấp, ứng dụng hoặc thời điểm "
                "phát hành không khớp). Vui lòng đăng nhập lại."
            ) from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise InvalidIdToken(
                "Mã định danh (ID token) được cấp cho ứng dụng khác. Vui lòng đăng nhập lại."
            )
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            raise NonceMismatch(
                "Mã định danh (ID token) không thuộc lần đăng nhập này (nonce không khớp); chưa đăng nhập. "
                "Vui lòng đăng nhập lại."
            )
        return claims

    def citizen_from_claims(self, claims: Mapping[str, Any]) -> VerifiedCitizen:
        """The person the token vouches for; the CCCD must follow its layout (and birth year)."""
        # Folded as every CCCD is compared (engine.text.cccd_key): "Hồ sơ của tôi" matches it.
        number = cccd_key(claims.get(self.settings.cccd_claim)) or ""
        if not number:
            raise InvalidIdToken(
                "Tài khoản định danh không có số CCCD nên không liên kết được với hồ sơ. "
                "Ông/bà có thể tra cứu bằng mã hồ sơ và mã tra cứu."
            )
        birthdate: date | None = None
        if isinstance(claims.get("birthdate"), str):
            try:
                birthdate = date.fromisoformat(claims["birthdate"])
            except ValueError:
                birthdate = None
        if birthdate is not None:
            try:
                number = parse_cccd(number, birthdate).number
            except MotcuaError as exc:
                raise InvalidIdToken(
                    f"Số CCCD do nhà cung cấp định danh trả về không hợp lệ: {exc.message}"
                ) from exc
        elif len(number) != 12 or not number.isdigit():
            raise InvalidIdToken(
                "Số CCCD do nhà cung cấp định danh trả về không hợp lệ (phải gồm 12 chữ số)"
            )
        name = " ".join(str(claims.get("name") or "").split()) or "Công dân"
        return VerifiedCitizen(
            cccd=number,
            full_name=name[:300],
            birthdate=birthdate,
            subject=str(claims.get("sub")),
            issuer=str(claims.get("iss")),
        )
