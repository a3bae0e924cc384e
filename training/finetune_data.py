"""The fine-tuning data set, built from the curriculum itself: questions an entry answers, from
what it states (its fields, learned from the subject's entries by `retrieval.structure`, and its
defining sentence), each in several phrasings made from the label and the title alone, asked the
way the router asks the model, with one-sentence cited answers. No subject's fields or phrasings
are named here: another curriculum gives its own questions with no change.

Only documents of the `dev` split (`split_of`, the answer sets' rule) are used, so no document
of the test set is trained on; a further slice of dev documents is held out whole for the run's
own evaluation. No question of the evaluation's held-out forms is made
(`training.questions.HELD_OUT_FORMS`).
Deterministic for a seed. No torch here.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from grounding.text import key_terms
from models.backend import ChatMessage
from models.prompts import SourceText, build_messages
from retrieval.chunking import split_passages
from retrieval.corpus import CorpusReport, read_documents
from retrieval.structure import Structure, learn
from training.questions import (
    DEFINITION_FORMS,
    FIELD_ANSWER,
    FIELD_FORMS,
    REVERSE_ANSWER,
    REVERSE_FORMS,
    Kind,
    TrainingQuestion,
    asked,
    capital,
    defining_sentence,
    defining_stems,
    stated_fields,
    unique_values,
)

SUBJECTS = ("chemistry", "computing", "english")  # the demo curriculum's files
SOURCES_PER_PROMPT = 3  # what the router gives the model (generation.sources_in_prompt)
PROMPT_CHARS = 600  # format_sources' cut: a fact past it is not in the prompt


class DataConfig(BaseModel):
    """What the builder takes from the curriculum."""

    model_config = ConfigDict(extra="forbid")

    forms_per_fact: int = Field(
        2, ge=1, le=len(FIELD_FORMS), description="Phrasings of each field an entry states."
    )
    reverse_per_fact: int = Field(
        1,
        ge=0,
        le=len(REVERSE_FORMS),
        description="Phrasings of a field asked the other way (which entry has this value), "
        "made when one entry alone of the subject has the value; never by a number (the "
        "evaluation holds that form out).",
    )
    definitions_per_subject: int = Field(200, ge=0, description="Definition questions per subject.")
    held_out_percent: int = Field(
        10, ge=1, le=50, description="Dev documents held out whole for the run's evaluation."
    )
    max_sense_chars: int = Field(240, description="Longer defining sentences are not one sentence.")


@dataclass(frozen=True)
class Example:
    """One supervised pair: the question (with what judges an answer to it), the passages the
    model is shown, and the answer it should give."""

    item: TrainingQuestion
    sources: tuple[SourceText, ...]
    answer: str

    def messages(self) -> list[ChatMessage]:
        """Exactly what the router sends the model for this question and these sources."""
        return build_messages(self.item.question, self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.item.doc_id,
            "kind": self.item.kind,
            "label": self.item.label,
            "question": self.item.question,
            "sources": [[s.title, s.text] for s in self.sources],
            "answer": self.answer,
        }


@dataclass(frozen=True)
class DataSet:
    train: list[Example]
    held_out: list[Example]

    @property
    def sha256(self) -> str:
        return examples_sha256(self.train)


def examples_sha256(examples: Sequence[Example]) -> str:
    """Identifies the training data in a model's manifest."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example.to_json(), sort_keys=True).encode() + b"\n")
    return digest.hexdigest()


def split_of(doc_id: str) -> str:
    """dev or test, by the document, as the answer sets split (stable whatever their size)."""
    return "dev" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def is_held_out(doc_id: str, percent: int) -> bool:
    """A stable slice of dev documents, by a hash independent of `split_of`'s."""
    return hashlib.sha256(f"held-out:{doc_id}".encode()).digest()[0] * 100 < percent * 256


def read_curriculum(folder: Path) -> list[dict[str, Any]]:
    """The demo curriculum's documents, as plain dicts."""
    paths = [folder / f"{subject}.jsonl.gz" for subject in SUBJECTS]
    return [d.model_dump() for d in read_documents(paths, CorpusReport())]


def source_of(doc: dict[str, Any]) -> SourceText:
    """The document as retrieval serves it: its first passage."""
    return SourceText(doc["title"], split_passages(doc["text"])[0])


def structure_of(docs: Sequence[dict[str, Any]]) -> Structure:
    """The subject's fields, learned from its first passages as ingest learns them."""
    return learn((d["id"], d["title"], source_of(d).text) for d in docs)


@dataclass(frozen=True)
class Facts:
    """A subject's learned fields, the values one entry alone has, and the builder's config."""

    structure: Structure
    unique: set[tuple[str, str]]
    config: DataConfig

    @classmethod
    def of(cls, docs: Sequence[dict[str, Any]], config: DataConfig) -> Facts:
        structure = structure_of(docs)
        return cls(structure, unique_values(structure), config)


def field_examples(
    doc: dict[str, Any], pool: Sequence[dict[str, Any]], facts: Facts, rng: random.Random
) -> list[Example]:
    """Each stated field asked in `forms_per_fact` phrasings, and the other way round
    ("which entry has ...") when no other entry of the subject has its value."""
    examples = []
    fields = facts.structure.facts(doc["id"]).fields
    for label, value in stated_fields(fields, source_of(doc).text, PROMPT_CHARS).items():
        asks: list[tuple[Kind, str]] = [
            ("field", form) for form in rng.sample(FIELD_FORMS, facts.config.forms_per_fact)
        ]
        if (label, value) in facts.unique:
            reverse = rng.sample(REVERSE_FORMS, facts.config.reverse_per_fact)
            asks.extend(("reverse", form) for form in reverse)
        for kind, form in asks:
            question = asked(form, doc["title"], label, value)
            if question is not None:
                item = fact_question(doc, kind, question, label, value)
                examples.append(fact_example(item, value, doc, pool, rng))
    return examples


def fact_question(
    doc: dict[str, Any], kind: Kind, question: str, label: str, value: str
) -> TrainingQuestion:
    return TrainingQuestion(
        question=question,
        kind=kind,
        subject=doc["subject"],
        doc_id=doc["id"],
        title=doc["title"],
        expected=value if kind == "field" else doc["title"],
        label=label,
    )


def fact_example(
    item: TrainingQuestion,
    value: str,
    doc: dict[str, Any],
    pool: Sequence[dict[str, Any]],
    rng: random.Random,
) -> Example:
    """The answer states the value (asked the other way, the entry and its value), cited."""
    sources, number = with_distractors(source_of(doc), doc, pool, rng)
    form = FIELD_ANSWER if item.kind == "field" else REVERSE_ANSWER
    title = item.title
    answer = form.format(title=title, Title=capital(title), label=item.label, value=value, n=number)
    return Example(item, sources, answer)


def definition_example(
    doc: dict[str, Any], pool: Sequence[dict[str, Any]], config: DataConfig, rng: random.Random
) -> Example | None:
    sense, source = defining_sentence(doc["text"]), source_of(doc)
    if len(defining_stems(sense, doc["title"])) < 2 or len(sense) > config.max_sense_chars:
        return None  # too short to judge by its terms, or more than one sentence
    if not key_terms(sense) <= key_terms(source.text[:PROMPT_CHARS]):
        return None  # the sense runs past the prompt's cut: the model could not see it
    question = asked(rng.choice(DEFINITION_FORMS), doc["title"])
    if question is None:
        return None
    item = TrainingQuestion(
        question=question,
        kind="definition",
        subject=doc["subject"],
        doc_id=doc["id"],
        title=doc["title"],
        expected=sense,
    )
    sources, number = with_distractors(source, doc, pool, rng)
    return Example(item, sources, definition_answer(doc["title"], sense, number))


def definition_answer(title: str, sense: str, number: int) -> str:
    """ "Absolute zero is the lowest temperature ... [2]." or "64-bit: A term describing ...";
    the entry's own words, so the answer holds every key term the judge looks for."""
    sense = sense.rstrip(" ;,.")
    if re.match(r"(?:a|an|the)\s", sense, re.I):
        return f"{capital(title)} is {sense[:1].lower()}{sense[1:]} [{number}]."
    return f"{capital(title)}: {sense} [{number}]."


def with_distractors(
    source: SourceText, doc: dict[str, Any], pool: Sequence[dict[str, Any]], rng: random.Random
) -> tuple[tuple[SourceText, ...], int]:
    """The right passage among other documents' passages of the subject, at a random place;
    returns the sources and the right one's number (from 1)."""
    others = rng.sample(list(pool), min(len(pool), SOURCES_PER_PROMPT))
    distractors = [source_of(d) for d in others if d["id"] != doc["id"]][: SOURCES_PER_PROMPT - 1]
    place = rng.randrange(len(distractors) + 1)
    return (*distractors[:place], source, *distractors[place:]), place + 1


def examples_of(
    docs: Sequence[dict[str, Any]], facts: dict[str, Facts], rng: random.Random
) -> list[Example]:
    """Every example one pool of documents gives (each document's distractors from the pool)."""
    made: list[Example] = []
    for subject, of_subject in sorted(facts.items()):
        pool = [d for d in docs if d["subject"] == subject]
        made.extend(e for d in pool for e in field_examples(d, pool, of_subject, rng))
        definitions = [definition_example(d, pool, of_subject.config, rng) for d in pool]
        kept = [e for e in definitions if e is not None]
        made.extend(rng.sample(kept, min(of_subject.config.definitions_per_subject, len(kept))))
    return made


def build_dataset(
    docs: Iterable[dict[str, Any]], seed: int, config: DataConfig | None = None
) -> DataSet:
    """Training examples from dev documents, and held-out examples from other dev documents;
    test-split documents appear in neither, not even as distractors. Fields are learned from
    every document of a subject, as ingest learns them for serving."""
    config = config or DataConfig()
    rng = random.Random(seed)
    every = sorted(docs, key=lambda d: str(d["id"]))
    facts = {s: Facts.of([d for d in every if d["subject"] == s], config) for s in subjects(every)}
    dev = [d for d in every if split_of(d["id"]) == "dev"]
    held = [d for d in dev if is_held_out(d["id"], config.held_out_percent)]
    train_docs = [d for d in dev if not is_held_out(d["id"], config.held_out_percent)]
    train, held_out = examples_of(train_docs, facts, rng), examples_of(held, facts, rng)
    rng.shuffle(train)
    rng.shuffle(held_out)
    return DataSet(train, held_out)


def subjects(docs: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({str(d["subject"]) for d in docs})


def eval_sample(held_out: Sequence[Example], limit: int) -> list[Example]:
    """`limit` held-out examples taken in turn from each kind of question (definitions
    outnumber the other kinds several times over)."""
    by_kind: dict[str, list[Example]] = {}
    for example in held_out:
        by_kind.setdefault(example.item.kind, []).append(example)
    queues = [list(reversed(of_kind)) for _, of_kind in sorted(by_kind.items())]
    sample: list[Example] = []
    while len(sample) < limit and any(queues):
        sample.extend(queue.pop() for queue in queues if queue)
    return sample[:limit]
