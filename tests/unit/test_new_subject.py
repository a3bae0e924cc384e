"""A subject the code has never seen: a made-up corpus of rivers goes through ingest, and the
exact look-up and the answer check work on it with no code change (issue 25). Its "Label:
value" fields are learnt from the entries; nothing in the product names them."""

from __future__ import annotations

import gzip
import json

import pytest

from grounding.answers import extractive_answer, not_said
from grounding.check import Evidence, GroundingConfig, check
from grounding.question import Entry, read
from retrieval.dense import DenseIndexParams
from retrieval.exact import ExactLookup
from retrieval.ingest import ingest
from retrieval.local import LocalRetriever
from retrieval.store import ShardStore
from retrieval.structure import EntryFacts, Structure
from tests.fakes.hashing_embedder import HashingEmbedder

RIVERS = [
    ("nile", "Mouth: Mediterranean Sea Length: 6650 Basin countries: 11 The longest river "
     "of Africa, flowing north through Egypt. Explored by John Hanning Speke in 1862."),
    ("amazon", "Mouth: Atlantic Ocean Length: 6400 Basin countries: 9 The largest river "
     "by discharge of water. Explored by Francisco de Orellana in 1542."),
    ("danube", "Mouth: Black Sea Length: 2850 Basin countries: 19 A river of central and "
     "eastern Europe flowing through ten countries."),
    ("rhine", "Mouth: North Sea Length: 1230 Basin countries: 9 A river rising in the Swiss "
     "Alps and flowing to the North Sea."),
    ("volga", "Mouth: Caspian Sea Length: 3530 Basin countries: 2 The longest river of "
     "Europe, flowing through central Russia."),
    ("thames", "Mouth: North Sea Length: 346 Basin countries: 1 A river flowing through "
     "southern England and London."),
]  # fmt: skip


@pytest.fixture(scope="module")
def rivers(tmp_path_factory: pytest.TempPathFactory) -> LocalRetriever:
    root = tmp_path_factory.mktemp("rivers")
    corpus = root / "geography.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as handle:
        for title, text in RIVERS:
            doc = {"id": f"geography:{title}", "subject": "geography", "title": title,
                   "text": text, "source": "made up for this test", "license": "CC0"}  # fmt: skip
            handle.write(json.dumps(doc) + "\n")
    store = ShardStore(root / "indexes")
    ingest([corpus], store, HashingEmbedder(), params=DenseIndexParams(), show_progress=False)
    assert (store.current_dir("geography") / "structure.json").is_file()
    return LocalRetriever.from_index_dir(root / "indexes", HashingEmbedder())


def evidence(retriever: LocalRetriever, question: str) -> Evidence:
    hits = retriever.search(question, k=3)
    entries = [Entry(h.title, h.text, dict(h.facts), h.aliases) for h in hits]
    return Evidence(question, entries, read(question, entries))


def test_fields_are_learnt_from_the_entries_and_stored_with_the_index(rivers: LocalRetriever):
    structure = rivers.shards["geography"].structure
    assert {"mouth", "length", "basin countries"} <= set(structure.labels)
    assert structure.facts("geography:danube").fields["Length"] == "2850"


def test_an_entry_is_found_by_the_value_a_question_gives(rivers: LocalRetriever):
    assert rivers.search("Which river has a length of 3530?", k=1)[0].title == "volga"


def test_the_check_and_its_repair_work_on_the_new_subject(rivers: LocalRetriever):
    config = GroundingConfig()
    found = evidence(rivers, "Which river has length 3530?")
    assert check("The Danube [1].", found, config).verdict == "unsupported"
    repair = extractive_answer(found)
    assert repair is not None and "volga" in repair.lower()
    assert check(repair, found, config).verdict == "supported"
    length = evidence(rivers, "What is the length of the nile?")
    assert check("The Nile is 6650 km long [1].", length, config).verdict == "supported"
    assert check("The Nile is 6400 km long [1].", length, config).verdict == "unsupported"
    who = evidence(rivers, "Who explored the amazon?")
    assert check("Francisco de Orellana [1].", who, config).verdict == "supported"
    assert check("John Hanning Speke [1].", who, config).verdict == "unsupported"


def test_a_river_the_curriculum_lacks_gets_no_invented_length(rivers: LocalRetriever):
    found = evidence(rivers, "What is the length of the Mekong?")
    assert check("The Mekong is 4350 km long.", found, GroundingConfig()).verdict == "unverified"
    assert "does not say" in not_said(found)


def test_a_one_digit_value_is_looked_up_but_a_one_letter_word_needs_its_label():
    structure = Structure(
        labels=["rank", "grade"],
        entries={
            "d:eight": EntryFacts(fields={"Rank": "8"}),
            "d:iodine": EntryFacts(fields={"Grade": "I"}),
        },
    )
    lookup = ExactLookup([(0, "d:eight", "eight"), (1, "d:iodine", "iodine")], structure)
    assert [m.row for m in lookup.find("Which entry is ranked with 8 points?")] == [0]
    assert lookup.find("Can I ask something?") == []
    assert [m.row for m in lookup.find("Which has grade I?")] == [1]
