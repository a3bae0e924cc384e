from pathlib import Path

from retrieval.corpus import CorpusReport, read_documents
from tests.conftest import CURRICULUM, write_jsonl


def doc(doc_id: str, **extra: str) -> dict[str, str]:
    return {"id": doc_id, "subject": "chemistry", "title": doc_id, "text": "t", **extra}


def test_bad_lines_are_reported_with_their_line_numbers_and_the_rest_is_read(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "c.jsonl",
        [doc("a"), "{not json", {"id": "b", "subject": "chemistry", "title": "b"}, doc("c")],
    )
    report = CorpusReport()
    ids = [d.id for d in read_documents([path], report)]
    assert ids == ["a", "c"]
    assert [(e.line, e.problem.split(" ")[0]) for e in report.errors] == [(2, "not"), (3, "text:")]
    assert report.accepted == 2


def test_a_duplicate_id_is_refused_and_the_first_copy_kept(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [doc("a", text="first"), doc("a", text="second")])
    report = CorpusReport()
    docs = list(read_documents([path], report))
    assert [d.text for d in docs] == ["first"]
    assert "duplicate id 'a'" in str(report.errors[0]) and report.errors[0].line == 2


def test_subject_override_puts_every_document_in_one_shard():
    report = CorpusReport()
    docs = list(read_documents([CURRICULUM / "chemistry.jsonl.gz"], report, subject="science"))
    assert len(docs) == 137 and {d.subject for d in docs} == {"science"}
    assert not report.errors


def test_a_subject_that_is_not_a_shard_name_is_refused(tmp_path: Path):
    path = write_jsonl(tmp_path / "s.jsonl", [doc("a") | {"subject": "Chem istry"}])
    report = CorpusReport()
    assert list(read_documents([path], report)) == []
    assert "subject" in report.errors[0].problem
