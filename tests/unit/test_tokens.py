"""Token verification: only a token signed with the configured key, for this issuer and
audience, in its validity window, names a caller. Every other token is refused the same way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from access.errors import NotAuthenticated
from access.principal import Principal
from access.tokens import TokenConfig, TokenVerifier, mint
from tests.fakes.identity_provider import AUDIENCE, ISSUER, IdentityProvider, SigningKey

SECRET = "s" * 40
SHARED = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret=SECRET, leeway_s=5)


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base = {"sub": "amina", "iss": "ai-tutor", "aud": "ai-tutor", "iat": now, "exp": now + 60}
    return {**base, **changes}


def test_a_minted_token_names_its_user_role_and_classes():
    token = mint(SHARED, "mr-okafor", "teacher", 60, ("7b",))
    assert TokenVerifier(SHARED).verify(token) == Principal(
        "mr-okafor", "teacher", frozenset({"7b"})
    )


BAD_SHARED_TOKENS = {
    "expired": jwt.encode(claims(exp=int(time.time()) - 60), SECRET, "HS256"),
    "not yet valid": jwt.encode(claims(nbf=int(time.time()) + 600), SECRET, "HS256"),
    "wrongly signed": jwt.encode(claims(), "another secret of forty characters......", "HS256"),
    "another audience": jwt.encode(claims(aud="other-app"), SECRET, "HS256"),
    "another issuer": jwt.encode(claims(iss="someone-else"), SECRET, "HS256"),
    "alg none": jwt.encode(claims(), None, "none"),
    "no expiry": jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, "HS256"),
    "no subject": jwt.encode({k: v for k, v in claims().items() if k != "sub"}, SECRET, "HS256"),
    "unknown role": jwt.encode(claims(role="root"), SECRET, "HS256"),
    "malformed": "not.a.token",
}


@pytest.mark.parametrize("token", BAD_SHARED_TOKENS.values(), ids=BAD_SHARED_TOKENS.keys())
def test_a_bad_token_is_refused(token: str):
    with pytest.raises(NotAuthenticated):
        TokenVerifier(SHARED).verify(token)


def hs256_by_hand(payload: dict[str, object], key: bytes) -> str:
    """An HS256 token signed with any bytes (PyJWT itself refuses a PEM key as a secret)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def test_an_hs256_token_signed_with_the_public_key_is_refused():
    """The key-confusion attack: the public key, used as an HMAC secret, must not verify."""
    key = SigningKey("k1")
    config = TokenConfig(issuer=ISSUER, audience=AUDIENCE, public_key=key.public_pem)
    assert TokenVerifier(config).verify(key.sign({"sub": "amina"})).user_id == "amina"
    forged = hs256_by_hand(claims(iss=ISSUER, aud=AUDIENCE, role="admin"), key.public_pem.encode())
    with pytest.raises(NotAuthenticated):
        TokenVerifier(config).verify(forged)


def test_an_es256_public_key_verifies_es256_tokens():
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = TokenConfig(issuer="ai-tutor", audience="ai-tutor", public_key=pem.decode())
    token = jwt.encode(claims(role="service"), private, "ES256")
    assert TokenVerifier(config).verify(token).role == "service"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider().start()
    yield provider
    provider.stop()


def test_a_jwks_key_set_is_cached_and_refetched_for_a_rotated_key(idp: IdentityProvider):
    config = TokenConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url=idp.jwks_url, jwks_refetch_s=0)
    verifier = TokenVerifier(config)
    first = idp.keys[0].sign({"sub": "amina"})
    assert verifier.verify(first).user_id == "amina"
    assert verifier.verify(first).user_id == "amina"
    assert idp.fetches == 1  # cached
    rotated = idp.rotate("k2").sign({"sub": "bilal", "role": "teacher"})
    assert verifier.verify(rotated).role == "teacher"  # an unknown kid refetches the set
    assert idp.fetches == 2
    stranger = SigningKey("k3").sign({"sub": "mallory", "role": "admin"})
    with pytest.raises(NotAuthenticated):
        verifier.verify(stranger)
