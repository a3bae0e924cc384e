"""Building the answer sets from the demo curriculum: the forms a student asks in, which of
them are held out, one phrasing drawn per question (seeded), and the split by document
(data/eval/answer_forms.md)."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation import passages as p
from evaluation.answers import AnswerQuestion, content_stems, has_phrase
from evaluation.forms import FORMS, INVENTED, UNANSWERABLE, Form

SUBJECTS = ("chemistry", "computing", "english")
SEED = 20261201
PER_FORM = 12  # a CPU model answers a few questions a second
Doc = dict[str, Any]  # a curriculum line: id, subject, title, text, source, license


def split_of(doc_id: str) -> str:
    """dev or test, by the document: stable whatever the set's size."""
    return "dev" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def read_curriculum(directory: Path) -> list[Doc]:
    docs: list[Doc] = []
    for subject in SUBJECTS:
        with gzip.open(directory / f"{subject}.jsonl.gz", "rt", encoding="utf-8") as handle:
            docs.extend(json.loads(line) for line in handle if line.strip())
    return docs


class Maker:
    """Questions of one form and subject, a phrasing drawn for each from its own seeded
    stream (adding a form does not move another form's draws)."""

    def __init__(self, form: Form, subject: str, seed: int) -> None:
        self.form, self.subject = form, subject
        self.rng = random.Random(f"{seed}:{subject}:{form.name}")

    def phrasing(self) -> str:
        return self.rng.choice(self.form.phrasings)

    def make(
        self, question: str, doc_ids: list[str], expected: list[str], **extra: Any
    ) -> AnswerQuestion:
        fields = {
            "question": question,
            "subject": self.subject,
            "form": self.form.name,
            "held_out": self.form.held_out,
            "doc_ids": doc_ids,
            "expected": list(dict.fromkeys(expected)),
            "answer_type": self.form.answer_type,
        }
        return AnswerQuestion.model_validate(fields | extra)


@dataclass(frozen=True)
class Element:
    doc_id: str
    title: str
    names: tuple[str, ...]  # the title, the corpus's other names for it, other spellings
    fields: dict[str, str | None]  # symbol, number, weight, group
    events: tuple[p.Discovery, ...]


def elements(docs: Iterable[Doc]) -> list[Element]:
    chemistry = [d for d in docs if d["subject"] == "chemistry"]
    aliases: dict[str, list[str]] = defaultdict(list)
    for d in chemistry:
        target = None if p.field(p.ATOMIC_NUMBER, d["text"]) else p.alias_target(d["text"])
        if target:
            aliases[target].append(d["title"])
    return [element(d, aliases[d["title"]]) for d in chemistry]


def element(doc: Doc, aliases: list[str]) -> Element:
    text, title = doc["text"], doc["title"]
    fields = {
        "symbol": p.field(p.SYMBOL, text),
        "number": p.field(p.ATOMIC_NUMBER, text),
        "weight": p.field(p.ATOMIC_WEIGHT, text),
        "group": p.group_of(text),
    }
    names = tuple(dict.fromkeys((title, *aliases, *p.SPELLINGS.get(title, []))))
    return Element(doc["id"], title, names, fields, tuple(p.discoveries(text)))


def facts(mk: Maker, els: list[Element], name: str) -> Iterator[AnswerQuestion]:
    """A field the passage states: atomic number, symbol, atomic weight, group."""
    for e in els:
        value = e.fields[name]
        if value:
            yield mk.make(mk.phrasing().format(t=e.title), [e.doc_id], [value])


def discovery(mk: Maker, els: list[Element], part: str) -> Iterator[AnswerQuestion]:
    """Who discovered X (`by`) or when (`year`): "Who first isolated strontium?" asks of its
    isolation (Davy), "Who discovered strontium?" of its discovery (Klaproth and Hope); a
    passage that states only one event answers both."""
    for e in els:
        phrasing = mk.phrasing()
        event = chosen_event(e.events, "isolated" in phrasing, part)
        value = getattr(event, part) if event else None
        if value:
            expected = p.people(value) if part == "by" else [value]
            yield mk.make(phrasing.format(t=e.title), [e.doc_id], expected)


def chosen_event(events: Iterable[p.Discovery], isolated: bool, part: str) -> p.Discovery | None:
    stating = [e for e in events if getattr(e, part)]
    same = [e for e in stating if e.isolated == isolated]
    return next(iter(same or stating), None)


def element_by(mk: Maker, els: list[Element], name: str, slot: str) -> Iterator[AnswerQuestion]:
    """The element with a symbol or atomic number; every element whose passage states it
    (unnildecium and darmstadtium both have 110) is a right answer."""
    holding: dict[str, list[Element]] = defaultdict(list)
    for e in els:
        if e.fields["symbol"] and e.fields["number"]:
            holding[str(e.fields[name])].append(e)
    for value, same in holding.items():
        question = mk.phrasing().format(**{slot: value})
        yield mk.make(question, [e.doc_id for e in same], [n for e in same for n in e.names])


def comparisons(mk: Maker, els: list[Element]) -> Iterator[AnswerQuestion]:
    """Which of two elements has more protons, or is heavier (atomic weights at least 1
    apart: mass numbers in brackets are rounded); the winner first or second at random."""
    known = [e for e in els if e.fields["number"] and e.fields["weight"]]
    for a, b in itertools.combinations(known, 2):
        phrasing = mk.phrasing()
        key = "weight" if "heavier" in phrasing else "number"
        x, y = float(a.fields[key] or 0), float(b.fields[key] or 0)
        if abs(x - y) < 1:
            continue
        winner, loser = (a, b) if x > y else (b, a)
        first, second = (a, b) if mk.rng.random() < 0.5 else (b, a)
        question = phrasing.format(a=first.title, b=second.title)
        doc_ids = [first.doc_id, second.doc_id]
        yield mk.make(question, doc_ids, list(winner.names), rivals=list(loser.names))


def definitions(mk: Maker, docs: list[Doc], chosen: set[str]) -> Iterator[AnswerQuestion]:
    """What is X, judged by the first sense's key terms: its content words without the
    title's, stemmed, the first six in order (a definition names its kind first)."""
    for d in docs:
        sense = p.first_sense(d["text"]) if d["id"] in chosen else ""
        own = set(content_stems(d["title"]))
        terms = [t for t in content_stems(sense) if t not in own][:6]
        if len(terms) >= 2:
            question = mk.phrasing().format(t=d["title"])
            yield mk.make(question, [d["id"]], [sense], key_terms=terms)


def words_for(mk: Maker, docs: list[Doc]) -> Iterator[AnswerQuestion]:
    """The reverse look-up: the entry whose first sense (5 to 25 words) is given; its
    first sense's synonyms are right too. Left out: senses holding the answer, quotes,
    brackets and "e.g." (a sense cut short)."""
    for d in docs:
        if not looked_up(d):
            continue
        sense = p.first_sense(d["text"])
        names = [d["title"], *p.first_synonyms(d["text"], d["title"])]
        if not 5 <= len(sense.split()) <= 25 or re.search(r"[()\"]|\b(?:e\.?g|i\.?e)\b", sense):
            continue
        if any(has_phrase(sense, n) for n in names):
            continue
        question = mk.phrasing().format(sense=sense[0].lower() + sense[1:])
        yield mk.make(question, [d["id"]], names)


def looked_up(doc: Doc) -> bool:
    """A plain word (WordNet) or a named entry with no other names before its <tags>."""
    if doc["subject"] == "english":
        return re.fullmatch(r"[a-z][a-z -]{2,}", doc["title"]) is not None
    plain_title = re.fullmatch(r"[a-z][a-z -]{3,}", doc["title"]) is not None
    return plain_title and p.opens_with_tags(doc["text"])


def acronyms(mk: Maker, docs: list[Doc]) -> Iterator[AnswerQuestion]:
    for d in docs:
        found = p.expansions(d["text"], d["title"]) if d["title"].isupper() else []
        if re.fullmatch(r"[A-Z]{2,8}", d["title"]) and found:
            question = mk.phrasing().format(t=d["title"])
            yield mk.make(question, [d["id"]], found, share_of_words=2 / 3)


def synonyms(mk: Maker, docs: list[Doc]) -> Iterator[AnswerQuestion]:
    for d in docs:
        found = p.synonyms(d["text"], d["title"])
        if found and re.fullmatch(r"[a-z][a-z -]{2,}", d["title"]):
            yield mk.make(mk.phrasing().format(t=d["title"]), [d["id"]], found)


Plan = list[tuple[str, str, Callable[[Maker], Iterator[AnswerQuestion]]]]


def plan(docs: list[Doc], chosen: set[str]) -> Plan:
    els = elements(docs)
    of = {s: [d for d in docs if d["subject"] == s] for s in SUBJECTS}
    dictionaries = ("computing", "english")
    return [
        ("chemistry", "atomic number of X", lambda mk: facts(mk, els, "number")),
        ("chemistry", "symbol of X", lambda mk: facts(mk, els, "symbol")),
        ("chemistry", "atomic weight of X", lambda mk: facts(mk, els, "weight")),
        ("chemistry", "discoverer of X", lambda mk: discovery(mk, els, "by")),
        ("chemistry", "element by symbol", lambda mk: element_by(mk, els, "symbol", "s")),
        ("chemistry", "group of X", lambda mk: facts(mk, els, "group")),
        ("chemistry", "element by atomic number", lambda mk: element_by(mk, els, "number", "n")),
        ("chemistry", "year X was discovered", lambda mk: discovery(mk, els, "year")),
        ("chemistry", "comparison of two elements", lambda mk: comparisons(mk, els)),
        *[
            (s, "definition of X", lambda mk: definitions(mk, of[mk.subject], chosen))
            for s in dictionaries
        ],
        *[
            (s, "word for a definition", lambda mk: words_for(mk, of[mk.subject]))
            for s in dictionaries
        ],
        ("computing", "acronym expansion", lambda mk: acronyms(mk, of["computing"])),
        ("english", "synonym of X", lambda mk: synonyms(mk, of["english"])),
    ]


def build(
    docs: Iterable[Doc], definitions: set[str], seed: int = SEED, per_form: int = PER_FORM
) -> dict[str, list[AnswerQuestion]]:
    """The dev and test sets: a question goes to a split only if all its documents are in
    it; at most `per_form` of each subject and form a split (definitions: every listed
    term), drawn with the seed; then the split's unanswerable questions."""
    ordered = sorted(docs, key=lambda d: str(d["id"]))
    check_invented(ordered)
    sets: dict[str, list[AnswerQuestion]] = {"dev": [], "test": []}
    for subject, form, make in plan(ordered, definitions):
        made = list(make(Maker(FORMS[form], subject, seed)))
        for split, questions in sets.items():
            mine = [q for q in made if {split_of(d) for d in q.doc_ids} == {split}]
            cap = None if form == "definition of X" else per_form
            questions.extend(sampled(mine, cap, random.Random(f"{seed}:{form}:{subject}:{split}")))
    for split, questions in sets.items():
        questions.extend(unanswerable(split, seed))
    return sets


def sampled(
    questions: list[AnswerQuestion], cap: int | None, rng: random.Random
) -> list[AnswerQuestion]:
    if cap is None or len(questions) <= cap:
        return questions
    return [questions[i] for i in sorted(rng.sample(range(len(questions)), cap))]


def unanswerable(split: str, seed: int) -> list[AnswerQuestion]:
    """One question a form about a made-up thing (the split's own), subject `none`."""
    names = INVENTED[split]
    questions = []
    for form, asks, slots in UNANSWERABLE:
        mk = Maker(FORMS[form], "none", seed)
        question = mk.phrasing().format(**{slot: names[key] for slot, key in slots.items()})
        questions.append(mk.make(question, [], [], answer_type="none", held_out=True, asks=asks))
    return questions


def check_invented(docs: list[Doc]) -> None:
    """Refuse a made-up name that a passage holds (it would be answerable)."""
    for names in INVENTED.values():
        for kind, name in names.items():
            if kind == "atomic number":
                pattern = rf"Atomic number:\s*{name}\b"
            elif kind == "symbol":
                pattern = rf"(?<![A-Za-z]){name}(?![a-z])"
            else:
                pattern = rf"(?i){re.escape(name)}"
            for d in docs:
                if re.search(pattern, d["title"]) or re.search(pattern, d["text"]):
                    raise ValueError(f"{name!r} is in {d['id']}: choose another made-up name")


def counts(questions: Iterable[AnswerQuestion]) -> Counter[tuple[str, str]]:
    return Counter((q.subject, q.form) for q in questions)
