"""Spelling-tolerant keyword search on the demo curriculum's computing and english slices."""

import numpy as np
import pytest

from retrieval.preprocess import prepare_query
from retrieval.shard import Shard
from tests.conftest import keyword_shard


@pytest.fixture(scope="module")
def computing() -> Shard:
    return keyword_shard("computing")


def top_keyword_hit(shard: Shard, question: str) -> str | None:
    hits = shard.candidates(None, prepare_query(question).keywords, 0, 5).keyword
    return hits[0].doc_id if hits else None


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("hash functoin", "hash function"), ("What is recursoin?", "What is recursion?")],
)
def test_a_typo_finds_what_the_right_spelling_finds(computing, typed, meant):
    assert top_keyword_hit(computing, meant) is not None
    assert top_keyword_hit(computing, typed) == top_keyword_hit(computing, meant)


def test_real_words_the_shard_lacks_are_left_alone(computing):
    # One edit from "printer", "angles", "found" (computing words), but English words: not typos.
    assert computing.speller.correct("painter angels round") == "painter angels round"
    # Four letters is too short to guess: "hsah" stays as typed.
    assert computing.speller.correct("hsah") == "hsah"
    assert top_keyword_hit(computing, "qwxzvkj") is None


def test_an_inflection_of_an_indexed_word_is_not_a_typo():
    entry = {"id": "english:reenforcement", "subject": "english", "title": "reenforcement"}
    shard = keyword_shard("english", [{**entry, "text": "n 1: a reinforcing of strength"}])
    # Not a dictionary word and not in the shard's text, one edit from "reinforcing", but its
    # stem is in the BM25 index (from the title): left as typed, and it matches.
    assert shard.speller.correct("reenforcing") == "reenforcing"
    assert top_keyword_hit(shard, "reenforcing") == "english:reenforcement"


def test_a_typo_is_not_corrected_to_a_word_only_deleted_entries_had():
    live = {"id": "english:live", "subject": "english", "title": "live", "text": "a blorvantik"}
    gone = {"id": "english:gone", "subject": "english", "title": "gone"}
    gone["text"] = "blorvantic blorvantic blorvantic"
    built = keyword_shard("english", [live, gone])
    # Before the delete, "blorvantix" is one edit from both and the commoner word wins.
    assert built.speller.correct("blorvantix") == "blorvantic"
    deleted = np.array([p.doc_id == "english:gone" for p in built.passages])
    shard = Shard("english", built.passages, None, built.keyword, deleted)
    assert shard.speller.correct("blorvantix") == "blorvantik"
    assert top_keyword_hit(shard, "blorvantix") == "english:live"
