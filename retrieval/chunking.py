"""Splitting documents into passages the embedder can see whole (MiniLM reads ~256 tokens).

A dictionary entry laid out as numbered senses ("n 1: ... 2: ... v 1: ...", WordNet's layout)
becomes one passage per sense: a question matches one meaning of a word, and an embedding of
the whole entry averages that meaning with the unrelated ones (measured in docs/PERFORMANCE.md).
Other text is packed sentence by sentence.

Every passage after an entry's first opens with the entry's lead (its first sentence or
sense, then " … "): retrieval returns a document's best-matching passage, and for a long
entry that was often a later part ("interpreter: See also partial evaluation.", an element's
text without its "Symbol: ... Atomic number: ..." header), so neither the model nor the answer
check saw what the entry says it is (docs/PERFORMANCE.md, issue 14).
"""

from __future__ import annotations

import re

# A sentence end followed by whitespace; good enough for dictionary-style curriculum text.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# "n 1: ", "adj 2: ", or a bare "3: " that continues the current part of speech.
SENSE_MARK = re.compile(r"(?:^|(?<=\s))(?:(n|v|adj|adv)\s+)?(\d{1,2}):\s")
# Between a carried lead and the passage it heads: text was left out here.
LEAD_JOINER = " … "
LEAD_MAX_CHARS = 240
# What a sentence says outside its brackets and tags.
_SAYS = re.compile(r"\([^)]*\)|<[^>]*>|\[[^\]]*\]")


def split_passages(text: str, max_chars: int = 1000) -> list[str]:
    """Passages of at most `max_chars`: one or more per numbered sense, else packed sentences;
    each after the first headed by the entry's lead."""
    text = text.strip()
    units = numbered_senses(text) or [text]
    passages = [passage for unit in units for passage in _pack_sentences(unit, max_chars)]
    if len(passages) < 2:
        return passages
    # The lead takes at most half a passage, so a small `max_chars` still leaves room for text.
    head = lead(passages[0], min(LEAD_MAX_CHARS, max_chars // 2)) + LEAD_JOINER
    budget = max(max_chars - len(head), 1)
    later = [piece for passage in passages[1:] for piece in _pack_sentences(passage, budget)]
    return [passages[0], *(head + piece for piece in later)]


def lead(passage: str, max_chars: int = LEAD_MAX_CHARS) -> str:
    """An entry's opening: its first sentence (or sense), cut at a word to `max_chars`; with
    the next one too when the first says nothing outside its brackets ("RAM <storage> (RAM)
    (Previously "direct-access memory")." is followed by the definition)."""
    sentences = _SENTENCE_END.split(passage, maxsplit=2)
    first = sentences[0]
    if len(_SAYS.sub(" ", first).split()) < 3 and len(sentences) > 1:
        first = f"{first} {sentences[1]}"
    if len(first) <= max_chars:
        return first
    return first[:max_chars].rsplit(" ", 1)[0]


def numbered_senses(text: str) -> list[str] | None:
    """The entry's senses, each with its marker, when the whole text is a sense list: it opens
    with "1:" and numbers count up, restarting at 1 only after a part-of-speech label. Anything
    else (a "1:" inside prose, a ratio) is not a sense list and gives None."""
    marks = list(SENSE_MARK.finditer(text))
    if not marks or marks[0].start() != 0:
        return None
    expected = 1
    for mark in marks:
        number, labelled = int(mark.group(2)), mark.group(1) is not None
        if number != expected and not (number == 1 and labelled):
            return None
        expected = number + 1
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return [text[m.start() : end].strip() for m, end in zip(marks, ends, strict=True)]


def _pack_sentences(text: str, max_chars: int) -> list[str]:
    """Greedy sentence packing into passages of at most `max_chars` (a longer sentence is cut)."""
    passages: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for piece in _hard_wrap(sentence, max_chars):
            if not piece:
                continue
            if current and len(current) + 1 + len(piece) > max_chars:
                passages.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    if current:
        passages.append(current)
    return passages


def _hard_wrap(sentence: str, max_chars: int) -> list[str]:
    return [sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars)]
