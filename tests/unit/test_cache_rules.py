"""The response cache's rules: key terms, the guard against false hits, what is never cached."""

from __future__ import annotations

import pytest

from response_cache.rules import CacheEntry, admissible, exact_key, is_personal, key_terms

CONTEXT = ("chemistry", 8, "smollm2@1", "chemistry:e1")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is photosynthesis?", "Define photosynthesis"),
        ("What is a noun?", "What does noun mean?"),
        ("What is the atomic number of carbon?", "what's the atomic number of carbon"),
        ("Explain recursion", "Can you explain recursion?"),
    ],
)
def test_paraphrases_share_key_terms(a: str, b: str):
    assert key_terms(a) == key_terms(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is a noun?", "What is a pronoun?"),
        ("What is the atomic number of carbon?", "What is the atomic number of oxygen?"),
        ("What is 7 times 8?", "What is 7 times 9?"),
        ("Who discovered helium?", "Who discovered hydrogen?"),
    ],
)
def test_near_misses_do_not(a: str, b: str):
    assert key_terms(a) != key_terms(b)


def entry(question: str, **changes: object) -> CacheEntry:
    fields = {
        "key": "k",
        "question": question,
        "key_terms": sorted(key_terms(question)),
        "subject": "chemistry",
        "class_level": 8,
        "model_version": "smollm2@1",
        "curriculum": "chemistry:e1",
        "query_class": "simple_factual",
        "answer": "6",
        "sources": [],
        "done": {},
        "ttl_s": 60,
    }
    return CacheEntry.model_validate({**fields, **changes})


def test_a_semantic_hit_needs_similarity_terms_and_context():
    cached = entry("What is the atomic number of carbon?")
    terms = key_terms("what's carbon's atomic number")
    assert admissible(cached, 0.95, terms, CONTEXT, 0.9)
    assert not admissible(cached, 0.85, terms, CONTEXT, 0.9)  # not similar enough
    assert not admissible(cached, 0.99, key_terms("atomic number of oxygen"), CONTEXT, 0.9)
    other_model = (*CONTEXT[:2], "smollm2@2", CONTEXT[3])
    assert not admissible(cached, 0.99, terms, other_model, 0.9)  # a swapped model
    other_level = ("chemistry", 5, *CONTEXT[2:])
    assert not admissible(cached, 0.99, terms, other_level, 0.9)


def test_the_exact_key_ignores_case_and_trailing_punctuation_but_not_context():
    key = exact_key("What is a noun?", None, None, "m@1", "c")
    assert key == exact_key("what is a noun", None, None, "m@1", "c")
    assert key != exact_key("What is a noun?", None, None, "m@2", "c")
    assert key != exact_key("What is a noun?", "english", None, "m@1", "c")


@pytest.mark.parametrize(
    "question",
    [
        "How am I doing in chemistry?",
        "What are my weak topics?",
        "Diagnose my mistakes in this test",
    ],
)
def test_personal_and_diagnostic_questions_are_never_cached(question: str):
    assert is_personal(question)
    assert not is_personal("What is a noun?")
