"""Bearer tokens (JWT, verified with PyJWT) into a `Principal`, and minting them for
development and machine clients.

Which algorithms a verifier accepts follows from its key, never from the token: a shared
secret accepts HS256 only; a public key or a JWKS URL accepts RS256 and ES256 only. So a
token with `alg: none`, or an HS256 token signed with a public RSA key (the classic confusion
attack), fails to verify. Issuer, audience, expiry (with a small leeway), `sub` and `iat`
are required.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from access.errors import NotAuthenticated
from access.principal import ROLES, Principal, Role

SUBJECT = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
SYMMETRIC = ["HS256"]
ASYMMETRIC = ["RS256", "ES256"]


@dataclass(frozen=True)
class TokenConfig:
    """Exactly one of `secret`, `public_key` (PEM) or `jwks_url` names the key."""

    issuer: str
    audience: str
    secret: str | None = None
    public_key: str | None = None
    jwks_url: str | None = None
    leeway_s: int = 30
    # An unknown `kid` refetches the key set at most this often: forged kids cannot make the
    # tutor hammer the identity provider (PyJWT's own default).
    jwks_refetch_s: float = 30.0


class TokenVerifier:
    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self._jwks = (
            jwt.PyJWKClient(
                config.jwks_url, lifespan=300, timeout=5, cooldown_duration=config.jwks_refetch_s
            )
            if config.jwks_url
            else None
        )
        self.algorithms = SYMMETRIC if config.secret else ASYMMETRIC

    def _key(self, token: str) -> Any:
        if self.config.secret:
            return self.config.secret
        if self.config.public_key:
            return self.config.public_key
        assert self._jwks is not None
        # Cached; an unknown `kid` refetches the key set (a rotated key is found at once).
        return self._jwks.get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise NotAuthenticated("the token has expired") from error
        except jwt.ImmatureSignatureError as error:
            raise NotAuthenticated("the token is not valid yet") from error
        except jwt.InvalidAudienceError as error:
            raise NotAuthenticated("the token is for another audience") from error
        except jwt.InvalidIssuerError as error:
            raise NotAuthenticated("the token is from another issuer") from error
        except jwt.PyJWTError as error:
            raise NotAuthenticated(f"the token does not verify ({type(error).__name__})") from error
        return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    subject, role, classes = (
        claims.get("sub"),
        claims.get("role", "student"),
        claims.get("classes", []),
    )
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        raise NotAuthenticated("the token's sub is not a user id")
    if role not in ROLES:
        raise NotAuthenticated(f"the token's role {role!r} is not one of {', '.join(ROLES)}")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise NotAuthenticated("the token's classes claim is not a list of class ids")
    return Principal(subject, role, frozenset(classes))


def mint(
    config: TokenConfig,
    user_id: str,
    role: Role = "student",
    ttl_s: int = 3600,
    classes: tuple[str, ...] = (),
    clock: Callable[[], float] = time.time,
) -> str:
    """An HS256 token this deployment accepts (development, or a shared-secret install)."""
    if not config.secret:
        raise ValueError(
            "minting needs the shared secret (AUTH_JWT_SECRET, or the development one)"
        )
    now = int(clock())
    claims: dict[str, Any] = {
        "sub": user_id,
        "role": role,
        "iss": config.issuer,
        "aud": config.audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    }
    if classes:
        claims["classes"] = list(classes)
    return jwt.encode(claims, config.secret, algorithm="HS256")
