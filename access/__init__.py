"""Who is asking, and what they may do: bearer tokens (PyJWT), roles and ownership rules, and
quotas that hold across ingress replicas.

- `tokens.py`: verifying a token (HS256 with a shared secret; RS256/ES256 with a public key or
  a JWKS URL) into a `Principal`; minting one (`tutor token`);
- `principal.py`: the roles and who may read or change what;
- `quotas.py`: burst, daily question and daily token limits, atomic in Redis (or one
  process's memory);
- `secret.py`: the development signing secret kept in DATA_DIR.
"""
