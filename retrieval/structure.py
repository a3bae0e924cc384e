"""What a curriculum's entries state, learned at ingest from the entries themselves.

Nothing here names a subject or a corpus. A *field* is a "Label: value" pair whose label
recurs across a subject's entries ("Symbol: K", "Born: 1769", "Capital: Paris"); a label
counts when enough entries carry it. An *alias field* is one whose values list other names
of the entry, recognised because its lists hold the entry's own title ("[syn: tall, high]" in
the entry *tall*). The answer check (`grounding/`) reads these facts; the shard's exact look-up
(`retrieval.exact`) finds entries by them. Stored with the shard version as structure.json.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

# A label: one to three words of letters, the first capitalised or after "[", then a colon.
LABEL = re.compile(r"(?:^|(?<=[\s\[(]))([A-Za-z][a-z]*(?: [a-z]+){0,2}):\s+(?=\S)")
NUMBER_VALUE = re.compile(r"\(?([-+]?\d+(?:[.,]\d+)*)\)?")
VALUE_END = re.compile(r"[\]\)]|[.;](?:\s|$)")
WORD = re.compile(r"[A-Za-z0-9][\w'-]*")
MIN_ENTRIES = 3  # a label seen in fewer entries is prose, not a field
MIN_SHARE = 0.05  # ... or in fewer than this share of the subject's entries
ALIAS_SHARE = 0.3  # a list field is an alias field when this share of its lists hold the title


class EntryFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(default_factory=dict)  # label -> value, as the entry has it
    aliases: list[str] = Field(default_factory=list)  # other names, from alias fields


class Structure(BaseModel):
    """One subject's learned structure: its field labels and each entry's facts."""

    model_config = ConfigDict(extra="forbid")

    format: int = 1
    labels: list[str] = Field(default_factory=list)
    alias_labels: list[str] = Field(default_factory=list)
    entries: dict[str, EntryFacts] = Field(default_factory=dict)

    def facts(self, doc_id: str) -> EntryFacts:
        return self.entries.get(doc_id) or EMPTY


EMPTY = EntryFacts()


def labels_in(text: str) -> list[tuple[str, int, int]]:
    """(label, start of the label, start of its value) for every "Label: " in `text`."""
    return [(m.group(1), m.start(1), m.end()) for m in LABEL.finditer(text)]


def value_at(text: str, start: int, end: int) -> str:
    """The value from `start` to the next label (`end`): a number alone when it opens with one
    ("(227) Silvery metal" is 227), a bracketed list whole, else up to four words."""
    segment = text[start:end]
    stop = VALUE_END.search(segment)
    if stop is not None:
        segment = segment[: stop.start()]
    segment = segment.strip(" ,")
    number = NUMBER_VALUE.match(segment)
    if number is not None and (len(segment) == number.end() or segment[number.end()] == " "):
        return number.group(1).replace(",", "")
    if "," in segment:
        return segment
    return " ".join(segment.split()[:4])


def read_fields(text: str, labels: set[str]) -> dict[str, str]:
    """The learned fields an entry's text states (the first occurrence of each)."""
    found = [(lab, s, e) for lab, s, e in labels_in(text) if lab.lower() in labels]
    fields: dict[str, str] = {}
    for i, (label, _, value_start) in enumerate(found):
        end = found[i + 1][1] if i + 1 < len(found) else len(text)
        value = value_at(text, value_start, end)
        if value:
            fields.setdefault(label, value)
    return fields


def list_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def learn(entries: Iterable[tuple[str, str, str]]) -> Structure:
    """The structure of (doc_id, title, text) entries: the first passage of each is enough,
    since fields stand at an entry's head (later passages carry the lead again)."""
    rows = list(entries)
    counts: Counter[str] = Counter()
    for _, _, text in rows:
        counts.update({label.lower() for label, _, _ in labels_in(text)})
    needed = max(MIN_ENTRIES, MIN_SHARE * len(rows))
    labels = {label for label, n in counts.items() if n >= needed}
    facts = {doc_id: read_fields(text, labels) for doc_id, _, text in rows}
    alias_labels = _alias_labels(rows, facts)
    structure = Structure(labels=sorted(labels), alias_labels=sorted(alias_labels))
    for doc_id, title, _ in rows:
        fields = facts[doc_id]
        aliases = [
            item
            for label, value in fields.items()
            if label.lower() in alias_labels
            for item in list_items(value)
            if item.lower() != title.lower()
        ]
        kept = {k: v for k, v in fields.items() if k.lower() not in alias_labels}
        if kept or aliases:
            structure.entries[doc_id] = EntryFacts(fields=kept, aliases=aliases)
    return structure


def _alias_labels(
    rows: Sequence[tuple[str, str, str]], facts: dict[str, dict[str, str]]
) -> set[str]:
    holds: dict[str, list[bool]] = defaultdict(list)
    for doc_id, title, _ in rows:
        for label, value in facts[doc_id].items():
            if "," in value or value.lower() == title.lower():
                names = {item.lower() for item in list_items(value)}
                holds[label.lower()].append(title.lower() in names)
    return {
        label
        for label, seen in holds.items()
        if len(seen) >= MIN_ENTRIES and sum(seen) >= ALIAS_SHARE * len(seen)
    }


def first_passages(passages: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(doc_id, title, text) of each document's first passage, in order."""
    seen: set[str] = set()
    firsts = []
    for doc_id, title, text in passages:
        if doc_id not in seen:
            seen.add(doc_id)
            firsts.append((doc_id, title, text))
    return firsts
