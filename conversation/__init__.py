"""The conversation: sessions and their stores (Redis, memory, the fallback between them), the
token window of recent turns, summaries of older ones, and follow-ups rewritten to stand alone.

`sessions.SessionStore` is the seam; its implementations sit beside it (`MemorySessionStore`,
`RedisSessionStore` in `sessions.py`, `FallbackSessionStore` in `fallback.py`). The embedded
store that lives in a Ray actor is a deployment-side shell: `deployments/session_actor.py`.
"""
