"""The response cache: answers reused for the same or a close-enough question.

- `rules.py`: what an answer is keyed on, when a similar question may reuse it, TTLs, what is
  never cached;
- `stores.py`: the `ResponseCache` protocol and its stores (Redis, shared by every router
  replica; memory, per process);
- `lookup.py`: the router's use of it (exact, then semantic lookup; replaying a hit; storing);
- `invalidation.py`: dropping answers a curriculum change made wrong;
- `warmup.py`: answering the most asked questions at start.
"""
