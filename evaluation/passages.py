"""Reading the demo curriculum's passages for questions with known answers: the fields of an
element (dict-elements), a dictionary entry's first sense (FOLDOC, WordNet), WordNet's
synonyms and FOLDOC's acronym expansions.

Corpus-aware on purpose: this makes evaluation data, and shares nothing with the answer
check's own reading of passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYMBOL = re.compile(r"\bSymbol:\s*([A-Z][a-z]{0,2})\b")
ATOMIC_NUMBER = re.compile(r"\bAtomic number:\s*(\d+)")
# "Atmic weight" is the corpus's own typo for the newer elements; "(227)": a mass number.
ATOMIC_WEIGHT = re.compile(r"\bAto?mic weight:\s*\(?(\d+(?:\.\d+)?)", re.I)
GROUP = re.compile(r"\bgroup (\d{1,2})\b")
# A sentence ends after a lower-case letter, digit or bracket, not after an initial (A. Debierne).
SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]][.!?])\s+(?=[A-Z(\"])")
EVENT = re.compile(r"\b(discovered|identified|isolated|extracted)\b", re.I)
PARTICLE = r"(?:de|da|di|du|del|della|van|von|der|le|la)"
NAME_WORD = rf"(?:[A-Z]\.?\s*)*(?:{PARTICLE}\s+)*[A-Z][^\W\d_][\w'-]*"
PERSON = rf"{NAME_WORD}(?:\s+{NAME_WORD})*"
BY_NAME = re.compile(rf"\bby\s+({PERSON}(?:\s+and\s+{PERSON})*)")
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-2][0-9])\b")
# Entries that name another: "Same as aluminum", "Original name for tungsten".
ALIAS_OF = re.compile(
    r"^(?:Same as|(?:The )?[Oo]riginal name for|Roman name for|Competing name for|"
    r"Name proposed for the \d+th element \()\s*([a-z]+)"
)
ALIAS_NAMED = re.compile(r"^Name proposed by the IUPAC .* naming the \d+\w\w element ([a-z]+)")
# Spellings a student may use that the corpus does not list.
SPELLINGS = {"sulphur": ["sulfur"], "caesium": ["cesium"], "aluminum": ["aluminium"]}

TAG = re.compile(r"<[^<>]*>")
# An entry's leading <tags> (not an e-mail address further on: <guido@cwi.nl>).
LEADING_TAGS = re.compile(r"[^<]{0,100}?<[^<>@/]+>(?:\s*<[^<>@/]+>)*")
PRONUNCIATION = re.compile(r"/[^/\s][^/]*/")
BRACKETS = re.compile(r"\([^()]*\)|\[[^\]]*\]")
POS = re.compile(r"\b(n|v|adj|adv)\s+1:\s")
WORDNET_SENSE_END = re.compile(r";\s*[\"`]|\s+\d+:\s|\s+(?:n|v|adj|adv)\s+1:\s|\s*\[(?:syn|ant):")
SYN = re.compile(r"\[syn:\s*([^\]]*)\]")


@dataclass(frozen=True)
class Discovery:
    """One event a passage states: "Discovered in 1817 by F. Stromeyer"."""

    isolated: bool  # isolated or extracted, not discovered or identified
    by: str | None
    year: str | None


def field(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


def alias_target(text: str) -> str | None:
    """The element an entry is another name of ("Roman name for copper": copper)."""
    text = re.sub(r"^Symbol:\s*\S+\s+", "", text)
    found = ALIAS_OF.match(text) or ALIAS_NAMED.match(text)
    return found.group(1) if found else None


def group_of(text: str) -> str | None:
    groups = set(GROUP.findall(text))
    return groups.pop() if len(groups) == 1 else None


def sentences(text: str) -> list[str]:
    return SENTENCE_END.split(re.sub(r"\s\.(?=[A-Z])", " ", text))


def discoveries(text: str) -> list[Discovery]:
    """Each "discovered / identified / isolated / extracted ..." clause of the passage with
    its "by NAME" and year, if it states either (active voice, "Ramsey identified argon in
    1894", gives the year only)."""
    events = []
    for sentence in sentences(text):
        verbs = list(EVENT.finditer(sentence))
        for verb, after in zip(verbs, [*verbs[1:], None], strict=False):
            clause = sentence[verb.end() : after.start() if after else None]
            by, year = BY_NAME.search(clause), YEAR.search(clause)
            if by or year:
                isolated = verb.group(1).lower() in ("isolated", "extracted")
                events.append(
                    Discovery(
                        isolated, by.group(1) if by else None, year.group(1) if year else None
                    )
                )
    return events


def people(name: str) -> list[str]:
    """The names of "Klaproth and Hope" (each a surname), or the whole of "Jose and Fausto de
    Elhuyer" (a first name alone shares the next person's surname)."""
    parts = [p.strip() for p in name.split(" and ")]
    kept = [name]
    for part, following in zip(parts, [*parts[1:], None], strict=True):
        if len(part.split()) > 1 or following is None or len(following.split()) == 1:
            kept.append(part)
    return list(dict.fromkeys(kept))


def first_sense(text: str) -> str:
    """A dictionary entry's first sense, as a student would read it: WordNet's first noun
    sense (else its first), FOLDOC's first sentence after its other names and <tags>."""
    if POS.match(text):
        sense = WORDNET_SENSE_END.split(wordnet_sense(text), maxsplit=1)[0]
    else:
        sense = SENTENCE_SPLIT.split(foldoc_body(text), maxsplit=1)[0]
    return " ".join(BRACKETS.sub(" ", sense).split()).strip(" .;:,")


def wordnet_sense(text: str) -> str:
    """The text of WordNet's first noun sense (else its first), with its examples and
    [syn: ...] list, up to the next sense."""
    noun = re.search(r"(?:^|\s)n\s+1:\s", text)
    start = noun.end() if noun else text.index(":") + 1
    return NEXT_SENSE.split(text[start:], maxsplit=1)[0]


NEXT_SENSE = re.compile(r"\s\d+:\s|\s(?:n|v|adj|adv)\s+1:\s")
SENTENCE_SPLIT = re.compile(r"(?:(?<=[a-z0-9)\]\"][.;])|(?<=[A-Z]{2}\.))\s+(?=[A-Z(\"]|$)")


def foldoc_body(text: str) -> str:
    """A FOLDOC entry's text after its other names and <tags> ("deadly embrace <parallel>"),
    or, without tags, after its leading lower-case other names; "1." and pronunciations
    (/kash/) and leading brackets dropped."""
    tags = LEADING_TAGS.match(text)
    body = text[tags.end() :] if tags else text
    body = PRONUNCIATION.sub(" ", re.sub(r"^\s*1\.\s", " ", body))
    body = re.sub(r"^(?:\s*\([^()]*\))+", " ", body).strip(" .;:,")
    if not tags:
        other_names = re.match(r"[a-z0-9][\w ,'-]{0,80}?\s(?=[A-Z])", body)
        body = body[other_names.end() :] if other_names else body
    return body


def opens_with_tags(text: str) -> bool:
    """A FOLDOC entry with no other names before its tags ("<networking> ...")."""
    return re.match(r"\s*(?:1\.\s*)?<", text) is not None


def synonyms(text: str, title: str) -> list[str]:
    """WordNet's [syn: ...] terms of every sense, without the title and without any that the
    title holds as words (an answer echoing the question would hold them)."""
    found: dict[str, None] = {}
    title_words = f" {words_of(title)} "
    for listed in SYN.findall(text):
        for term in (t.strip() for t in listed.split(",")):
            words = words_of(term)
            if words and f" {words} " not in title_words:
                found.setdefault(term, None)
    return list(found)


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def first_synonyms(text: str, title: str) -> list[str]:
    """The [syn: ...] terms of WordNet's first sense only: other names of what it defines."""
    return synonyms(wordnet_sense(text), title) if POS.match(text) else []


def expansions(text: str, acronym: str) -> list[str]:
    """What an acronym stands for, as the passage gives it: a phrase opening the entry or
    one of its numbered senses, or a bracketed one, whose words spell the acronym
    ("Declarative Alvey Compiler Target Language", "GRaphical INterpretive Display")."""
    starts = re.split(r"(?:^|\s)\d\.\s|\(", TAG.sub(" ", text))
    found = []
    for start in starts:
        words = re.findall(r"[^\W_][\w'-]*", re.split(r"[.:;)\[\"]", start, maxsplit=1)[0])
        for end in range(2, min(len(words), 12) + 1):
            if spells(words[:end], acronym) and words[end - 1].lower() not in STOP:
                found.append(" ".join(words[:end]))
                break
    # "A real-time ..." (ART), "See PL" (SPL): an article or a pointer, not an expansion.
    kept = [f for f in found if f.split()[0].lower() not in ("a", "an", "the", "see")]
    return list({f.lower(): f for f in reversed(kept)}.values())[::-1]


STOP = frozenset(re.findall(r"\w+", "of and the for a an to in on by with"))


def spells(words: list[str], acronym: str) -> bool:
    """Whether the words spell the acronym: each gives its first letter or a capitalised
    prefix (GRaphical gives GR), and a small word (of, and, the) may give nothing."""
    parts = [p for w in words for p in re.split(r"-", w) if p]
    return spelt(parts, acronym.lower())


def spelt(parts: list[str], rest: str) -> bool:
    if not parts:
        return not rest
    word, others = parts[0], parts[1:]
    if word.lower() in STOP and spelt(others, rest):
        return True
    prefix = len(word) - len(word.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    for size in range(max(prefix, 1), 0, -1):
        if rest.startswith(word[:size].lower()) and spelt(others, rest[size:]):
            return True
    return False
