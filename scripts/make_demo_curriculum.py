"""Cut the demo curriculum shipped in data/curriculum/ from the full corpora (run once, by hand).

The whole chemistry corpus, plus for computing and english the school-level terms listed below
and a seeded random sample, so that `make run` answers real questions on a fresh machine.
Usage: python scripts/make_demo_curriculum.py ../shared/corpora data/curriculum
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

SAMPLE_SIZES = {"chemistry": None, "computing": 1500, "english": 2500}
SEED = 20261123
# Terms a student is likely to ask about; kept whatever the random draw is.
MUST_KEEP = {
    "computing": [
        "algorithm",
        "array",
        "binary_search",
        "binary_tree",
        "bit",
        "byte",
        "bubble_sort",
        "cache",
        "compiler",
        "database",
        "deadlock",
        "queue",
        "stack",
        "function",
        "hash_function",
        "interpreter",
        "linked_list",
        "linux",
        "loop",
        "recursion",
        "object_oriented_programming",
        "operating_system",
        "python",
        "tcp_ip",
        "variable",
        "virtual_memory",
        "quicksort",
        "hypertext_transfer_protocol",
        "central_processing_unit",
        "random_access_memory",
    ],
    "english": [
        "noun",
        "pronoun",
        "verb",
        "adjective",
        "adverb",
        "preposition",
        "conjunction",
        "metaphor",
        "simile",
        "sonnet",
        "poem",
        "alliteration",
        "syllable",
        "synonym",
        "antonym",
        "grammar",
        "atom",
        "molecule",
        "carbon",
        "photosynthesis",
        "democracy",
        "onomatopoeia",
        "hyperbole",
        "irony",
        "idiom",
        "paragraph",
        "sentence",
        "vowel",
        "consonant",
        "prefix",
        "suffix",
    ],
}


def read(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def sample(subject: str, docs: list[dict[str, str]]) -> list[dict[str, str]]:
    size = SAMPLE_SIZES[subject]
    if size is None:
        return docs
    keep_ids = {f"{subject}:{term}" for term in MUST_KEEP.get(subject, [])}
    kept = [d for d in docs if d["id"] in keep_ids]
    rest = [d for d in docs if d["id"] not in keep_ids]
    drawn = random.Random(SEED).sample(rest, size - len(kept))
    return sorted(kept + drawn, key=lambda d: d["id"])


def write(path: Path, docs: list[dict[str, str]]) -> None:
    # mtime=0 keeps the gzip bytes reproducible run to run.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for doc in docs:
            handle.write((json.dumps(doc, ensure_ascii=False) + "\n").encode())


def main(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for subject in SAMPLE_SIZES:
        docs = sample(subject, read(source / f"{subject}.jsonl.gz"))
        write(dest / f"{subject}.jsonl.gz", docs)
        print(f"{subject}: {len(docs)} documents")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
