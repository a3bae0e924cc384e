"""A school's identity provider as the tutor sees it: a JWKS endpoint over keys it can rotate,
and tokens signed with them (RS256). Served by uvicorn in a thread on a loopback port."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from tests.fakes.openai_server import free_port

ISSUER, AUDIENCE = "https://idp.school.test", "ai-tutor"


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())
        )
        return {**key, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}
        return jwt.encode(body, self.private, algorithm="RS256", headers={"kid": self.kid})


class IdentityProvider:
    def __init__(self) -> None:
        self.keys = [SigningKey("k1")]
        self.fetches = 0
        app = FastAPI()

        @app.get("/jwks.json")
        async def jwks() -> dict[str, Any]:
            self.fetches += 1
            return {"keys": [k.jwk() for k in self.keys]}

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"

    def rotate(self, kid: str) -> SigningKey:
        """A new signing key, published beside the old one."""
        self.keys.append(SigningKey(kid))
        return self.keys[-1]

    def start(self) -> IdentityProvider:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
