"""The fine-tuning data set, built from the curriculum itself: questions a passage answers (its
fields, "Atomic number: 18" -> "What is the atomic number of argon?", and its first sense ->
"What is X?"), asked the way the router asks the model, with one-sentence cited answers.

Only documents of the `dev` split (`models.answer_eval.split_of`) are used, so the test set of
`data/eval/answers.test.jsonl` is never trained on; a further slice of dev documents is held
out whole for the run's own evaluation. Deterministic for a seed. No torch here.
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

from models.answer_eval import FORMS, AnswerQuestion, definition_question, split_of
from models.backend import ChatMessage
from models.prompts import SourceText, build_messages
from models.response_optimizer import FIELDS, key_terms
from retrieval.chunking import split_passages
from retrieval.corpus import CorpusReport, read_documents

SUBJECTS = ("chemistry", "computing", "english")
SOURCES_PER_PROMPT = 3  # what the router gives the model (generation.sources_in_prompt)
PROMPT_CHARS = 600  # format_sources' cut: a fact past it is not in the prompt
# One sentence per fact; {n} is the right passage's number among the sources.
ANSWERS = {
    "atomic number": "The atomic number of {t} is {v} [{n}].",
    "symbol": "The chemical symbol for {t} is {v} [{n}].",
    "atomic weight": "The atomic weight of {t} is {v} [{n}].",
    "discoverer": "{T} was {how} by {v} [{n}].",
}
DISCOVERY_VERBS = {"discovered": "discovered", "isolated": "isolated", "first": "first isolated"}


class DataConfig(BaseModel):
    """What the builder takes from the curriculum."""

    model_config = ConfigDict(extra="forbid")

    forms_per_fact: int = Field(2, ge=1, description="Phrasings of each chemistry fact.")
    definitions_per_subject: int = Field(
        200, ge=0, description="Definition questions per computing/english subject."
    )
    held_out_percent: int = Field(
        10, ge=1, le=50, description="Dev documents held out whole for the run's evaluation."
    )
    max_sense_chars: int = Field(240, description="Longer first senses are not one sentence.")


@dataclass(frozen=True)
class Example:
    """One supervised pair: the question (with what judges an answer to it), the passages the
    model is shown, and the answer it should give."""

    item: AnswerQuestion
    sources: tuple[SourceText, ...]
    answer: str

    def messages(self) -> list[ChatMessage]:
        """Exactly what the router sends the model for this question and these sources."""
        return build_messages(self.item.question, self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.item.doc_id,
            "kind": self.item.kind,
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


def fact_examples(
    doc: dict[str, Any], pool: Sequence[dict[str, Any]], config: DataConfig, rng: random.Random
) -> list[Example]:
    source = source_of(doc)
    examples = []
    for kind, (_, states) in FIELDS.items():
        found = states.search(source.text[:PROMPT_CHARS])
        if found is None:
            continue
        forms = rng.sample(FORMS[kind], min(config.forms_per_fact, len(FORMS[kind])))
        for form in forms:
            item = fact_item(doc, kind, form, found.group(1).strip())
            sources, number = with_distractors(source, doc, pool, rng)
            answer = fact_answer(kind, doc["title"], item.expected, number, found.group(0))
            examples.append(Example(item, sources, answer))
    return examples


def fact_item(doc: dict[str, Any], kind: str, form: str, value: str) -> AnswerQuestion:
    return AnswerQuestion(
        question=form.format(t=doc["title"]),
        kind=kind,  # type: ignore[arg-type]
        subject=doc["subject"],
        doc_id=doc["id"],
        expected=value,
    )


def fact_answer(kind: str, title: str, value: str, number: int, stated: str) -> str:
    how = DISCOVERY_VERBS.get(stated.split()[0].lower(), "identified")
    return ANSWERS[kind].format(
        t=title, T=title[:1].upper() + title[1:], v=value, n=number, how=how
    )


def definition_example(
    doc: dict[str, Any], pool: Sequence[dict[str, Any]], config: DataConfig, rng: random.Random
) -> Example | None:
    item = definition_question(doc, rng)
    source = source_of(doc)
    if item is None or len(item.expected) > config.max_sense_chars:
        return None
    if not key_terms(item.expected) <= key_terms(source.text[:PROMPT_CHARS]):
        return None  # the sense runs past the prompt's cut: the model could not see it
    sources, number = with_distractors(source, doc, pool, rng)
    return Example(item, sources, definition_answer(doc["title"], item.expected, number))


def definition_answer(title: str, sense: str, number: int) -> str:
    """ "Absolute zero is the lowest temperature ... [2]." or "64-bit: A term describing ...";
    the entry's own words, so the answer holds every key term the judge looks for."""
    sense = sense.rstrip(" ;,.")
    head = title[:1].upper() + title[1:]
    if re.match(r"(?:a|an|the)\s", sense, re.I):
        return f"{head} is {sense[:1].lower()}{sense[1:]} [{number}]."
    return f"{head}: {sense} [{number}]."


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
    docs: Sequence[dict[str, Any]], config: DataConfig, rng: random.Random
) -> list[Example]:
    """Every example one pool of documents gives (each document's distractors from the pool)."""
    made: list[Example] = []
    for subject in SUBJECTS:
        pool = [d for d in docs if d["subject"] == subject]
        if subject == "chemistry":
            made.extend(e for d in pool for e in fact_examples(d, pool, config, rng))
            continue
        definitions = [definition_example(d, pool, config, rng) for d in pool]
        kept = [e for e in definitions if e is not None]
        made.extend(rng.sample(kept, min(config.definitions_per_subject, len(kept))))
    return made


def build_dataset(
    docs: Iterable[dict[str, Any]], seed: int, config: DataConfig | None = None
) -> DataSet:
    """Training examples from dev documents, and held-out examples from other dev documents;
    test-split documents appear in neither, not even as distractors."""
    config = config or DataConfig()
    rng = random.Random(seed)
    dev = sorted((d for d in docs if split_of(d["id"]) == "dev"), key=lambda d: str(d["id"]))
    held = [d for d in dev if is_held_out(d["id"], config.held_out_percent)]
    train_docs = [d for d in dev if not is_held_out(d["id"], config.held_out_percent)]
    train, held_out = examples_of(train_docs, config, rng), examples_of(held, config, rng)
    rng.shuffle(train)
    rng.shuffle(held_out)
    return DataSet(train, held_out)


def eval_sample(held_out: Sequence[Example], limit: int) -> list[Example]:
    """`limit` held-out examples taken in turn from each kind of question (definitions
    outnumber each chemistry fact several times over)."""
    by_kind: dict[str, list[Example]] = {}
    for example in held_out:
        by_kind.setdefault(example.item.kind, []).append(example)
    queues = [list(reversed(of_kind)) for _, of_kind in sorted(by_kind.items())]
    sample: list[Example] = []
    while len(sample) < limit and any(queues):
        sample.extend(queue.pop() for queue in queues if queue)
    return sample[:limit]
