"""Build data/eval/answers.{dev,test}.jsonl from the demo curriculum (run once, by hand; see
data/eval/README.md). Chemistry: every fact a passage states (atomic number, symbol, atomic
weight, discoverer), one phrasing drawn per question. Computing and english: a definition
question for each school-level term the demo curriculum keeps. Split by document.

Usage: python scripts/make_answer_set.py data/curriculum data/eval
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from make_demo_curriculum import MUST_KEEP

from models.answer_eval import build


def main(curriculum: Path, dest: Path) -> None:
    docs = []
    for subject in ("chemistry", "computing", "english"):
        with gzip.open(curriculum / f"{subject}.jsonl.gz", "rt", encoding="utf-8") as handle:
            docs.extend(json.loads(line) for line in handle)
    definitions = {f"{s}:{term}" for s, terms in MUST_KEEP.items() for term in terms}
    for split, questions in build(docs, definitions).items():
        path = dest / f"answers.{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for question in questions:
                handle.write(question.model_dump_json() + "\n")
        kinds: dict[str, int] = {}
        for q in questions:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
        print(f"{path}: {len(questions)} questions {kinds}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
