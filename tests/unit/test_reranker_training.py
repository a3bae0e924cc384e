import math
import random

import pytest

from retrieval.corpus import Document
from retrieval.shard import Hit
from training.reranker_training import (
    TrainingGroup,
    build_groups,
    group_batches,
    hard_negatives,
    listwise_loss,
    lr_factor,
    make_group,
)
from training.training_queries import (
    Sense,
    TrainingQuery,
    apply_quotas,
    build_queries,
    cross_dictionary_queries,
    dictionary_style,
    foreign_definition,
    paraphrase,
    parse_senses,
    synonym_map,
    synonym_query,
    without_headword,
)


def doc(doc_id: str, title: str, text: str) -> Document:
    subject = doc_id.split(":")[0]
    return Document(id=doc_id, subject=subject, title=title, text=text)


LANK = doc(
    "english:lank",
    "lank",
    'adj 1: long and thin and often limp; "grown lank with fasting" 2: long and lean '
    "[syn: lank, spindly]",
)
JOINT = doc(
    "english:joint",
    "joint",
    "n 1: a junction by which parts are joined [syn: joint, articulation] "
    'adj 1: united or combined; "a joint session" [syn: joint, united, combined, concerted]',
)
COMPILER_EN = doc(
    "english:compiler",
    "compiler",
    "n 1: a person who compiles information 2: (computer science) a program that decodes "
    "instructions written in a higher order language",
)
COMPILER_CS = doc(
    "computing:compiler",
    "compiler",
    "<programming, tool> A program that converts another program from some source language "
    "to machine language. Some compilers output assembly language.",
)
ARGON = doc(
    "chemistry:argon",
    "argon",
    "Symbol: Ar Atomic number: 18 Atomic weight: 39.948 Monatomic noble gas making up 0.93% of "
    "the air. Colourless, odorless.",
)


def hit(doc_id: str, title: str, text: str = "") -> Hit:
    return Hit(doc_id, doc_id.split(":")[0], title, text, 1.0)


def test_parse_senses_splits_numbered_senses_and_carries_the_part_of_speech():
    senses = parse_senses(JOINT.text)
    assert [s.pos for s in senses] == ["n", "adj"]
    assert senses[0] == Sense(
        "n", "a junction by which parts are joined", ("joint", "articulation")
    )
    assert senses[1].gloss == "united or combined"  # the quoted example is dropped
    assert [s.pos for s in parse_senses(LANK.text)] == ["adj", "adj"]


def test_without_headword_removes_whole_words_only():
    assert without_headword("a lank person, lanky and lank", "lank") == "a person, lanky and"
    assert without_headword("Compiler output", "compiler") == "output"


def test_dictionary_style_writes_verbs_as_infinitives_and_ends_the_sentence():
    assert dictionary_style("turn into gas", "v") == "To turn into gas."
    assert dictionary_style("long and lean", "adj") == "Long and lean."
    assert dictionary_style("to fly; to soar;", "v") == "To fly; to soar;"


def test_synonym_query_leaves_out_the_headword_and_needs_two_synonyms():
    adj = parse_senses(JOINT.text)[1]
    assert synonym_query(JOINT, adj) == "United; combined; concerted."
    assert synonym_query(JOINT, parse_senses(JOINT.text)[0]) is None  # only "articulation" left


def test_foreign_definition_drops_tags_element_header_and_headword():
    assert foreign_definition(COMPILER_CS) == (
        "A program that converts another program from some source language to machine language."
    )
    assert foreign_definition(ARGON) == "Monatomic noble gas making up 0.93% of the air."


def test_cross_dictionary_queries_pair_same_titles_in_both_directions():
    queries = list(cross_dictionary_queries({"compiler": COMPILER_EN}, [COMPILER_CS, ARGON]))
    assert [(q.positive_id, q.kind) for q in queries] == [
        ("english:compiler", "cross"),
        ("computing:compiler", "cross"),
    ]
    assert queries[1].text == "A person who compiles information."


def test_build_queries_respects_quotas_and_is_seeded():
    docs = [LANK, JOINT, COMPILER_EN, COMPILER_CS, ARGON]
    quotas = {"gloss": 2, "synonyms": 1, "cross": 1}
    first = build_queries(docs, quotas, random.Random(3))
    again = build_queries(docs, quotas, random.Random(3))
    assert first == again
    kinds = [q.kind for q in first]
    assert kinds.count("gloss") == 2 and kinds.count("synonyms") <= 1
    assert kinds.count("cross") == 1 and "definition" not in kinds
    assert all("lank" not in q.text.lower() for q in first if q.positive_id == "english:lank")


def test_apply_quotas_drops_kinds_without_a_quota():
    pool = [TrainingQuery("q", "d", "gloss"), TrainingQuery("r", "d", "title")]
    assert apply_quotas(pool, {"gloss": 5}, random.Random(0)) == [pool[0]]


def test_hard_negatives_skip_the_positive_same_title_and_synonym_entries():
    query = TrainingQuery("Long and lean.", "english:lank", "gloss", evidence="long and lean")
    ranking = [
        hit("english:lank", "lank"),
        hit("english:spindly", "spindly", "adj 1: long and lean [syn: lank, spindly]"),
        hit("computing:lank", "Lank"),
        hit("english:gaunt", "gaunt", "adj 1: very thin"),
        hit("english:thin", "thin", "adj 1: of relatively small extent"),
    ]
    negatives = hard_negatives(ranking, query, "lank", 5)
    assert [h.doc_id for h in negatives] == ["english:gaunt", "english:thin"]


def test_make_group_puts_the_positive_first_as_the_first_stage_returned_it():
    query = TrainingQuery("Long and lean.", "english:lank", "gloss", evidence="long and lean")
    ranking = [
        hit("english:gaunt", "gaunt", "adj 1: very thin " + "x" * 500),
        hit("english:lank", "lank", "adj 1: long and thin and often limp"),
    ]
    group = make_group(query, LANK, ranking, negatives=1)
    assert group is not None
    assert group.passages[0].startswith("lank: adj 1: long and thin")
    assert group.passages[1] == "gaunt: " + ("adj 1: very thin " + "x" * 500)[:400]
    assert make_group(query, LANK, ranking, negatives=2) is None  # too few negatives


def test_make_group_drops_queries_whose_positive_the_first_stage_misses():
    query = TrainingQuery("Modular approach to software.", "english:lank", "cross")
    ranking = [hit("english:gaunt", "gaunt"), hit("english:thin", "thin")]
    assert make_group(query, LANK, ranking, negatives=1) is None


def test_build_groups_mines_each_query_with_the_ranker_in_batches():
    calls: list[list[str]] = []

    def rank(texts: list[str]) -> list[list[Hit]]:
        calls.append(texts)
        return [[hit("english:gaunt", "gaunt"), hit("english:lank", "lank")] for _ in texts]

    queries = [TrainingQuery(f"q{i}", "english:lank", "gloss") for i in range(3)]
    groups = build_groups(queries, {"english:lank": LANK}, rank, negatives=1, batch_size=2)
    assert calls == [["q0", "q1"], ["q2"]]
    assert [g.query for g in groups] == ["q0", "q1", "q2"]


def test_group_batches_are_full_and_cover_each_group_once():
    groups = [TrainingGroup(f"q{i}", ("p", "n"), "gloss") for i in range(7)]
    batches = list(group_batches(groups, 3, random.Random(0)))
    assert [len(b) for b in batches] == [3, 3]
    assert len({g.query for b in batches for g in b}) == 6


def test_listwise_loss_is_log_group_size_for_equal_scores_and_falls_when_positive_wins():
    torch = pytest.importorskip("torch")
    equal = listwise_loss(torch.zeros(8), group_size=4)
    assert float(equal) == pytest.approx(math.log(4))
    winning = listwise_loss(torch.tensor([5.0, 0.0, 0.0, 0.0]), group_size=4)
    assert float(winning) < 0.1


def test_lr_factor_warms_up_then_decays_to_zero():
    assert lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert lr_factor(10, 10, 100) == 1.0
    assert lr_factor(55, 10, 100) == pytest.approx(0.5)
    assert lr_factor(100, 10, 100) == 0.0


def test_sampled_hard_negatives_stay_in_rank_order_and_are_seeded():
    query = TrainingQuery("Long and lean.", "english:lank", "gloss")
    ranking = [hit(f"english:w{i}", f"w{i}") for i in range(10)]
    first = hard_negatives(ranking, query, "lank", 3, random.Random(5))
    assert first == hard_negatives(ranking, query, "lank", 3, random.Random(5))
    ranks = [ranking.index(h) for h in first]
    assert ranks == sorted(ranks) and len(set(ranks)) == 3


def test_synonym_map_links_one_word_members_of_each_synonym_list():
    synonyms = synonym_map([LANK, JOINT])
    assert synonyms["lank"] == ["spindly"] and synonyms["spindly"] == ["lank"]
    assert synonyms["joint"] == ["articulation", "combined", "concerted", "united"]


def test_paraphrase_swaps_content_words_for_listed_synonyms_and_keeps_function_words():
    synonyms = {"thin": ["spindly"], "long": ["lengthy"]}
    text = "long and thin and often limp"
    always = paraphrase(text, synonyms, random.Random(0), swap=1.0, drop=0.0)
    assert always == "lengthy and spindly and often limp"
    assert paraphrase(text, synonyms, random.Random(0), swap=0.0, drop=0.0) == text
    dropped = paraphrase(text, synonyms, random.Random(0), swap=0.0, drop=1.0)
    assert dropped == "and and"


def test_paraphrase_queries_never_name_their_headword():
    # "lank" in spindly's gloss has the synonym "spindly": a swap would name the answer.
    spindly = doc("english:spindly", "spindly", "adj 1: lank and tall and weak [syn: spindly]")
    docs = [LANK, JOINT, spindly]
    texts = []
    for seed in range(20):
        queries = build_queries(docs, {"paraphrase": 5}, random.Random(seed))
        assert {q.kind for q in queries} == {"paraphrase"}
        texts += [q.text.lower() for q in queries if q.positive_id == "english:spindly"]
    assert len(texts) >= 5
    assert not any("spindly" in text for text in texts)
    assert any("lank" not in text for text in texts)  # the swap did happen, and was undone
