"""Text a client sends must be storable: PostgreSQL's text and JSON refuse NUL bytes, and a
lone surrogate is not valid UTF-8 anywhere. Refused at validation (a 422 naming the field)
rather than failing later in a store (a 500)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, model_validator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_field(value: Any, where: str) -> str | None:
    """The dotted path of the first string in `value` that cannot be stored, if any."""
    if isinstance(value, str):
        return where if _UNSTORABLE.search(value) else None
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in value.items()]
        items += [(f"{k!s} (key)", k) for k in value]
    elif isinstance(value, list | tuple):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, item in items:
        found = unstorable_field(item, f"{where}.{key}" if where else key)
        if found is not None:
            return found
    return None


class Storable(BaseModel):
    @model_validator(mode="after")
    def _refuse_unstorable_text(self) -> Storable:
        found = unstorable_field(self, "")
        if found is not None:
            raise ValueError(f"{found}: contains a NUL byte or a lone surrogate (not storable)")
        return self
