import pytest

from retrieval.chunking import LEAD_JOINER, split_passages
from retrieval.errors import InvalidQueryError
from retrieval.preprocess import prepare_query


def without_leads(passages: list[str]) -> str:
    return " ".join([passages[0], *(p.split(LEAD_JOINER, 1)[1] for p in passages[1:])])


def test_long_text_is_split_into_passages_within_the_limit_without_losing_words():
    text = " ".join(f"Sentence number {i} says something useful." for i in range(100))
    passages = split_passages(text, max_chars=300)
    assert len(passages) > 5
    assert all(len(p) <= 300 for p in passages)
    assert without_leads(passages).split() == text.split()


def test_every_later_passage_opens_with_the_entrys_first_sentence():
    # FOLDOC's *interpreter*, shortened: its last passage alone was "See also partial
    # evaluation.", which answered "what is an interpreter?" with nothing.
    text = (
        "A program that executes another program written in a programming language. "
        + "It reads each statement and performs it. " * 30
        + "See also partial evaluation."
    )
    passages = split_passages(text, max_chars=400)
    opening = "A program that executes another program written in a programming language."
    assert len(passages) > 2
    assert passages[0].startswith(opening)
    assert all(p.startswith(opening + LEAD_JOINER) and len(p) <= 400 for p in passages[1:])
    assert passages[-1].endswith("See also partial evaluation.")
    assert without_leads(passages).split() == text.split()


def test_a_sentence_longer_than_the_limit_is_cut_not_dropped():
    passages = split_passages("x" * 2500, max_chars=1000)
    assert len(passages[0]) == 1000
    assert all(len(p) <= 1000 for p in passages)
    assert without_leads(passages).replace(" ", "") == "x" * 2500


def test_a_small_limit_still_gives_passages_within_it_with_a_shortened_lead():
    # A 240-character first sentence and a 200-character limit once left no room for text
    # after the lead (and failed outright: a wrap of width zero or less).
    text = "Opening " * 30 + ". " + "Later sentence with words. " * 20
    passages = split_passages(text, max_chars=200)
    assert len(passages) > 2
    assert all(len(p) <= 200 for p in passages)
    assert all(LEAD_JOINER in p and len(p.split(LEAD_JOINER, 1)[0]) <= 100 for p in passages[1:])
    assert without_leads(passages).split() == text.split()


# The english corpus's entry for *palette* (WordNet 3.0), as ../shared/corpora ships it.
PALETTE = (
    "n 1: the range of colour characteristic of a particular artist or painting or school of "
    "art [syn: palette, pallet] 2: board that provides a flat surface on which artists mix "
    "paints and the range of colors used [syn: palette, pallet] 3: one of the rounded armor "
    "plates at the armpits of a suit of armor [syn: pallette, palette]"
)


def test_a_dictionary_entry_becomes_one_passage_per_sense_losing_nothing():
    passages = split_passages(PALETTE)
    assert len(passages) == 3
    first_sense = "n 1: the range of colour characteristic of a particular artist"
    assert passages[1].startswith(first_sense)
    assert passages[1].split(LEAD_JOINER)[1].startswith("2: board that provides a flat surface")
    assert without_leads(passages).split() == PALETTE.split()


def test_numbering_restarts_only_after_a_part_of_speech_label():
    entry = "n 1: a quick run 2: a score in cricket v 1: move fast by using one's feet"
    assert split_passages(entry) == [
        "n 1: a quick run",
        f"n 1: a quick run{LEAD_JOINER}2: a score in cricket",
        f"n 1: a quick run{LEAD_JOINER}v 1: move fast by using one's feet",
    ]


@pytest.mark.parametrize(
    "prose",
    [
        "Gear ratio 1: 2 means the wheel turns twice. 3: 4 is slower.",
        "1: first step; 3: skipped a number",
        "A note that mentions 1: in passing",
    ],
)
def test_numbers_inside_prose_are_not_taken_for_senses(prose):
    assert split_passages(prose) == [prose]


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


def test_a_lead_that_says_nothing_outside_its_brackets_takes_the_next_sentence_too():
    """FOLDOC's RAM opens with "RAM <storage> (RAM) (Previously ...)." and defines it only in
    the sentence after: later passages must carry the definition, not the empty opening."""
    text = (
        'RAM <storage> (RAM) (Previously "direct-access memory"). A data storage device for '
        "which the order of access does not affect the speed of access. " + "Filler words. " * 90
    )
    passages = split_passages(text, 400)
    assert len(passages) > 2
    assert all("A data storage device" in p for p in passages)
