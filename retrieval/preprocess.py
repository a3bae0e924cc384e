"""Query preprocessing: normalisation, and the keyword form with question boilerplate removed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from retrieval.errors import InvalidQueryError

# Leading phrasings that say "answer me" rather than what about; they only add noise to BM25.
_BOILERPLATE = re.compile(
    r"^(?:(?:can|could|would) you |please )*"
    r"(?:what(?:'s| is| are| was| were| does| do)?|who(?:'s| is| was)?|define|definition of|"
    r"explain|describe|tell me about|give me|how (?:do|does|is|are)|meaning of)\b\s*",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"\s*(?:mean|means|stand for)?\s*[?.!]*$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PreparedQuery:
    """`text` is for the embedder (natural language helps it); `keywords` is for BM25."""

    text: str
    keywords: str


def normalise(query: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", query)).strip()


def keyword_form(text: str) -> str:
    stripped = _TRAILING.sub("", _BOILERPLATE.sub("", text))
    return stripped or text


def prepare_query(query: str, max_chars: int = 4000) -> PreparedQuery:
    text = normalise(query)
    if not text:
        raise InvalidQueryError("the query is empty")
    if len(text) > max_chars:
        raise InvalidQueryError(f"the query is {len(text)} characters; the limit is {max_chars}")
    return PreparedQuery(text=text, keywords=keyword_form(text))
