"""Build data/eval/answers.{dev,test}.jsonl from the demo curriculum (run once, by hand; the
forms, which are held out, and how each is judged: data/eval/answer_forms.md). Seeded: the same
curriculum gives the same sets. Split by document; prints each split's count by subject and form.

Usage: python scripts/make_answer_set.py data/curriculum data/eval
"""

from __future__ import annotations

import sys
from pathlib import Path

from make_demo_curriculum import MUST_KEEP

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs from a checkout, with or without the package installed

from evaluation.answer_sets import build, counts, read_curriculum  # noqa: E402
from evaluation.forms import FORMS  # noqa: E402


def main(curriculum: Path, dest: Path) -> None:
    definitions = {f"{s}:{term}" for s, terms in MUST_KEEP.items() for term in terms}
    for split, questions in build(read_curriculum(curriculum), definitions).items():
        path = dest / f"answers.{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for question in questions:
                handle.write(question.model_dump_json(exclude_defaults=True) + "\n")
        print(f"{path}: {len(questions)} questions")
        for (subject, form), n in sorted(counts(questions).items()):
            held = " (held out)" if FORMS[form].held_out or subject == "none" else ""
            print(f"  {subject:9} {form:28} {n:3}{held}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
