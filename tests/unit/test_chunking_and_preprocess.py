import pytest

from retrieval.chunking import split_passages
from retrieval.errors import InvalidQueryError
from retrieval.preprocess import prepare_query


def test_long_text_is_split_into_passages_within_the_limit_without_losing_words():
    text = " ".join(f"Sentence number {i} says something useful." for i in range(100))
    passages = split_passages(text, max_chars=300)
    assert len(passages) > 5
    assert all(len(p) <= 300 for p in passages)
    assert " ".join(passages).split() == text.split()


def test_a_sentence_longer_than_the_limit_is_cut_not_dropped():
    passages = split_passages("x" * 2500, max_chars=1000)
    assert [len(p) for p in passages] == [1000, 1000, 500]


@pytest.mark.parametrize(
    ("question", "keywords"),
    [
        ("What is the atomic number of carbon?", "the atomic number of carbon"),
        ("  define   recursion ", "recursion"),
        ("Can you explain photosynthesis?", "photosynthesis"),
        ("What does TCP/IP stand for?", "TCP/IP"),
        ("noun", "noun"),
    ],
)
def test_question_boilerplate_is_stripped_for_keyword_search(question: str, keywords: str):
    assert prepare_query(question).keywords == keywords


def test_the_embedder_sees_the_whole_normalised_question():
    assert prepare_query("What  is\ta noun?").text == "What is a noun?"


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_is_refused(query: str):
    with pytest.raises(InvalidQueryError, match="empty"):
        prepare_query(query)


def test_an_over_long_query_is_refused_naming_the_limit():
    with pytest.raises(InvalidQueryError, match="limit is 4000"):
        prepare_query("word " * 1000)
