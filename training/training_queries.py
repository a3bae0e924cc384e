"""Training queries for the reranker, from the curriculum corpora only: definitions in another
voice (a WordNet sense gloss without its headword, a synonym list, another dictionary's
definition of the same title, "what is X"), each with the one document that answers it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from retrieval.chunking import SENSE_MARK
from retrieval.corpus import Document

_SYN = re.compile(r"\[syn:([^\]]*)\]")
_EXAMPLE = re.compile(r';?\s*"[^"]*"')
_LEADING_TAGS = re.compile(r"^.{0,80}?(?:<[^>]{1,80}>\s*)+")
_ELEMENT_HEADER = re.compile(r"^Symbol:.*?Atomic weight:\s*\S+\s*")
_FIRST_SENTENCE = re.compile(r"^(.+?[.;])(?:\s|$)")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sense:
    """One numbered WordNet sense: part of speech, gloss (no examples), synonyms."""

    pos: str
    gloss: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class TrainingQuery:
    """A query, the id of the one document that answers it, and the recipe that made it.

    `evidence` is text that marks a document as stating the same meaning (the sense gloss the
    query came from), so that synonyms' entries are not mined as negatives.
    """

    text: str
    positive_id: str
    kind: str
    evidence: str = ""


def parse_senses(text: str) -> list[Sense]:
    """Split a WordNet entry ("n 1: gloss; \"example\" [syn: a, b] 2: ...") into senses."""
    marks = list(SENSE_MARK.finditer(text))
    senses, pos = [], ""
    for i, mark in enumerate(marks):
        pos = mark.group(1) or pos
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end]
        syn = _SYN.search(body)
        synonyms = tuple(s.strip() for s in syn.group(1).split(",") if s.strip()) if syn else ()
        gloss = _clean(_EXAMPLE.sub("", _SYN.sub("", body)))
        if gloss:
            senses.append(Sense(pos, gloss, synonyms))
    return senses


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip(" ;,")


def without_headword(text: str, headword: str) -> str:
    """The text with the headword (any case, as a whole word or phrase) removed."""
    pattern = re.compile(rf"(?<!\w){re.escape(headword)}(?!\w)", re.IGNORECASE)
    return _clean(pattern.sub("", text))


def dictionary_style(gloss: str, pos: str) -> str:
    # Other dictionaries write "To infuse air into." for verbs and capitalise glosses; WordNet
    # does neither, so without this the model would learn WordNet's voice, not the meaning.
    text = f"to {gloss}" if pos == "v" and not gloss.lower().startswith("to ") else gloss
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", ";")) else f"{text}."


def gloss_query(doc: Document, sense: Sense) -> str | None:
    text = without_headword(sense.gloss, doc.title)
    return dictionary_style(text, sense.pos) if len(text.split()) >= 3 else None


def synonym_query(doc: Document, sense: Sense) -> str | None:
    """ "united; combined; concerted." for *joint*: a definition by synonyms, headword left out."""
    title = doc.title.lower()
    others = [s for s in sense.synonyms if title not in s.lower() and s.lower() not in title]
    if len(others) < 2:
        return None
    return dictionary_style("; ".join(others[:4]), sense.pos)


def title_query(doc: Document, rng: random.Random) -> str:
    template = rng.choice(["what is {}", "what is a {}", "define {}", "{}", "meaning of {}"])
    return template.format(doc.title)


def first_sentence(text: str, max_chars: int = 240) -> str:
    match = _FIRST_SENTENCE.match(text)
    return (match.group(1) if match else text)[:max_chars].strip()


def foreign_definition(doc: Document) -> str | None:
    """A FOLDOC or elements-database definition: header and <tags> dropped, first sentence."""
    body = _ELEMENT_HEADER.sub("", doc.text)
    body = _LEADING_TAGS.sub("", body)
    text = without_headword(first_sentence(body), doc.title)
    return text if len(text.split()) >= 4 else None


# Words a paraphrase keeps: swapping "of" for a synonym of "of" would only add noise.
_KEEP = frozenset(
    ("a", "an", "the", "of", "to", "in", "on", "for", "by", "with", "as", "at", "or", "and")
    + ("from", "that", "which", "who", "is", "be", "it", "its", "this", "not", "no", "into")
    + ("than", "one")
)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


def synonym_map(english: Iterable[Document]) -> dict[str, list[str]]:
    """word -> the other one-word members of every [syn: ...] list it appears in."""
    synonyms: dict[str, set[str]] = {}
    for doc in english:
        for sense in parse_senses(doc.text):
            words = [s.lower() for s in sense.synonyms if _WORD.fullmatch(s.lower())]
            for word in words:
                synonyms.setdefault(word, set()).update(w for w in words if w != word)
    return {word: sorted(others) for word, others in synonyms.items() if others}


def paraphrase(
    text: str,
    synonyms: dict[str, list[str]],
    rng: random.Random,
    swap: float = 0.4,
    drop: float = 0.1,
) -> str:
    """The text with content words dropped or swapped for a synonym at random.

    A WordNet gloss query is word for word in its positive passage, so on its own it teaches
    the reranker to spot copied text; another dictionary's definition of the word says the
    same thing in other words, which is what these queries imitate.
    """
    out = []
    for token in text.split():
        word = token.strip(".,;:()").lower()
        if word in _KEEP or not _WORD.fullmatch(word):
            out.append(token)
            continue
        roll = rng.random()
        if roll < drop:
            continue
        if roll < drop + swap and word in synonyms:
            token = token.lower().replace(word, rng.choice(synonyms[word]), 1)
        out.append(token)
    return " ".join(out)


def english_queries(
    doc: Document, rng: random.Random, synonyms: dict[str, list[str]] | None = None
) -> list[TrainingQuery]:
    """Per document: one gloss query, its paraphrase (given a synonym map) and, when the entry
    lists synonyms, one synonym query."""
    senses = parse_senses(doc.text)
    if not senses:
        return []
    sense = rng.choice(senses)
    gloss = gloss_query(doc, sense)
    made = [("gloss", gloss), ("synonyms", synonym_query(doc, sense))]
    if gloss and synonyms:
        # A swap can bring the headword back ("long" -> "lank"): removed again.
        text = without_headword(paraphrase(gloss, synonyms, rng), doc.title)
        made.append(("paraphrase", dictionary_style(text, "") if text else None))
    return [TrainingQuery(text, doc.id, kind, sense.gloss) for kind, text in made if text]


def cross_dictionary_queries(
    english: dict[str, Document], others: Iterable[Document]
) -> Iterator[TrainingQuery]:
    """Another dictionary's definition of a title that WordNet also has, and the reverse."""
    for doc in others:
        match = english.get(doc.title.lower())
        if match is None:
            continue
        definition = foreign_definition(doc)
        if definition:
            yield TrainingQuery(definition, match.id, "cross")
        senses = parse_senses(match.text)
        gloss = without_headword(senses[0].gloss, doc.title) if senses else ""
        if len(gloss.split()) >= 3:
            yield TrainingQuery(dictionary_style(gloss, ""), doc.id, "cross", senses[0].gloss)


def own_definition_queries(docs: Iterable[Document]) -> Iterator[TrainingQuery]:
    """A non-WordNet document's own first sentence, headword removed."""
    for doc in docs:
        definition = foreign_definition(doc)
        if definition:
            yield TrainingQuery(definition, doc.id, "definition")


def build_queries(
    documents: Sequence[Document], quotas: dict[str, int], rng: random.Random
) -> list[TrainingQuery]:
    """Queries of every kind, each capped at its quota (a kind missing from quotas: none).

    Kinds: gloss, paraphrase (of a gloss), synonyms, title (WordNet and others), cross (between
    dictionaries), definition (a FOLDOC or elements entry's own first sentence).
    """
    english = [d for d in documents if d.subject == "english"]
    others = [d for d in documents if d.subject != "english"]
    by_title = {d.title.lower(): d for d in english}
    synonyms = synonym_map(english) if quotas.get("paraphrase") else None
    pool: list[TrainingQuery] = []
    for doc in rng.sample(english, min(len(english), 4 * max(quotas.values(), default=0))):
        pool.extend(english_queries(doc, rng, synonyms))
        if rng.random() < 0.1:
            pool.append(TrainingQuery(title_query(doc, rng), doc.id, "title"))
    pool.extend(cross_dictionary_queries(by_title, others))
    pool.extend(own_definition_queries(others))
    pool.extend(TrainingQuery(title_query(d, rng), d.id, "title") for d in others)
    return apply_quotas(pool, quotas, rng)


def apply_quotas(
    pool: Sequence[TrainingQuery], quotas: dict[str, int], rng: random.Random
) -> list[TrainingQuery]:
    by_kind: dict[str, list[TrainingQuery]] = {}
    for query in pool:
        by_kind.setdefault(query.kind, []).append(query)
    chosen = [
        q
        for kind, queries in sorted(by_kind.items())
        for q in rng.sample(queries, min(len(queries), quotas.get(kind, 0)))
    ]
    rng.shuffle(chosen)
    return chosen
