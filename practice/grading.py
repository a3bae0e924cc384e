"""Grading a student's answer to a practice item against its key.

Forgiving about form, strict about content: case, punctuation, articles and a choice's letter
("b", "B)") do not matter; a number is right within a tolerance (a whole-number key exactly, a
decimal one within 1% or 0.05: 39.1 and 39 for 39.0983), a code in any case ("k" for K), a
name by its surname, a term or other value as written (or a single-word inflection of it), a
meaning by its choice or by most of its key words. The item's kind says which: no field's label
matters here.
"""

from __future__ import annotations

import re

from grounding.text import key_terms
from practice.items import PracticeItem

ARTICLES = re.compile(r"\b(?:a|an|the)\b")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
LETTER = re.compile(r"^\s*\(?([a-dA-D])\)?[.)]?\s*$")


def normalised(text: str) -> str:
    text = ARTICLES.sub(" ", text.lower())
    return " ".join(re.sub(r"[^\w\s.-]", " ", text).split()).strip(" .")


def chosen(item: PracticeItem, answer: str) -> str:
    """The answer, or the choice its letter names ("B" for the second choice)."""
    letter = LETTER.match(answer)
    if item.choices and letter:
        index = "abcd".index(letter.group(1).lower())
        if index < len(item.choices):
            return item.choices[index]
    return answer


def number_matches(key: str, answer: str) -> bool:
    expected = float(key)
    tolerance = 0.0 if "." not in key else max(abs(expected) * 0.01, 0.05)
    return any(abs(float(n) - expected) <= tolerance for n in NUMBER.findall(answer))


def is_correct(item: PracticeItem, answer: str) -> bool:
    given = chosen(item, answer)
    if item.kind == "number":
        return number_matches(item.key, given)
    words = normalised(given)
    if item.kind == "code":
        return words == item.key.lower()
    if item.kind == "meaning":
        terms = key_terms(item.key)
        return words == normalised(item.key) or len(terms & key_terms(given)) >= 0.6 * len(terms)
    if item.kind == "name":
        surname = normalised(item.key).split()[-1]
        return surname in words.split()
    key = normalised(item.key)
    return words == key or words.rstrip("s") == key.rstrip("s")
