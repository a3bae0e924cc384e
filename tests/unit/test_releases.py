"""Release records, the file history, the rollout's decisions and the verification's checks.

The rollout runs against a small cluster written here (it applies configs in memory and can be
told to fail), the verification against the real API served in one process.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from cluster.releases.errors import DeployLocked, NoSuchRelease, NothingToRollBackTo
from cluster.releases.facts import model_versions
from cluster.releases.history import FileReleaseHistory, last_live
from cluster.releases.records import Release, ReleaseFacts, ReleaseStatus
from cluster.releases.rollout import Rollout
from cluster.releases.verify import (
    Check,
    SmokeQuestion,
    SmokeSet,
    Verification,
    Verifier,
    component_problems,
    load_smoke_set,
)
from graphs.single_process import local_api, local_router
from tests.conftest import ROOT
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend


def facts(config: str, code: str = "abc123") -> ReleaseFacts:
    return ReleaseFacts(environment="staging", config=config, code_revision=code)


def test_the_file_history_numbers_releases_and_keeps_what_they_applied(tmp_path):
    history = FileReleaseHistory(tmp_path)
    first = history.add(facts("a: 1"))
    second = history.add(facts("a: 2"))
    assert (first.id, second.id, first.status) == (1, 2, ReleaseStatus.applying)
    history.set_status(1, ReleaseStatus.verified, "ok")
    assert FileReleaseHistory(tmp_path).get(1).config == "a: 1"  # durable: a new reader sees it
    assert [r.id for r in history.recent()] == [2, 1]
    assert last_live(history).id == 1  # type: ignore[union-attr]
    with pytest.raises(NoSuchRelease, match="no release 9"):
        history.get(9)


def test_a_second_deploy_is_refused_while_one_holds_the_lock(tmp_path):
    history = FileReleaseHistory(tmp_path)
    with history.lock(), pytest.raises(DeployLocked), FileReleaseHistory(tmp_path).lock():
        pass


class MemoryCluster:
    """Applies configs in memory; a config containing `unhealthy` never gets healthy."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.waited_since: list[float] = []

    def apply(self, config: Path) -> None:
        self.applied.append(config.read_text())

    def wait_healthy(self, since: float) -> None:
        self.waited_since.append(since)
        if "unhealthy" in self.applied[-1]:
            raise TimeoutError("not healthy after 900s")


def passes_unless(marker: str):
    def verify(release: Release) -> Verification:
        ok = marker not in release.config
        return Verification([Check("search: carbon", ok, "chemistry:carbon at rank 1", 0.1)])

    return verify


@pytest.fixture
def rollout(tmp_path) -> Rollout:
    return Rollout(
        history=FileReleaseHistory(tmp_path / "history"),
        cluster=MemoryCluster(),
        verify=passes_unless("broken"),
        work_dir=tmp_path / "work",
        say=[].append,
        clock=lambda: 1700.0,
    )


def test_a_good_release_is_verified_and_live(rollout):
    outcome = rollout.deploy(facts("model: v1"))
    assert outcome.ok and outcome.release.status == ReleaseStatus.verified
    assert rollout.cluster.applied == ["model: v1"]  # type: ignore[attr-defined]
    # healthy means healthy since this config was applied, not the one before it
    assert rollout.cluster.waited_since == [1700.0]  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", ["model: broken", "model: unhealthy"])
def test_a_release_that_fails_is_rolled_back_to_the_last_live_one(rollout, bad):
    rollout.deploy(facts("model: v1"))
    outcome = rollout.deploy(facts(bad))
    assert not outcome.ok and outcome.release.status == ReleaseStatus.failed
    back = outcome.rolled_back_to
    assert back is not None and back.is_live and back.rollback_of == 1 and back.id == 3
    assert rollout.cluster.applied[-1] == "model: v1"  # type: ignore[attr-defined]
    assert "broken" in bad or "not healthy" in outcome.release.detail


def test_a_first_release_that_fails_has_nothing_to_go_back_to(rollout):
    outcome = rollout.deploy(facts("model: broken"))
    assert not outcome.ok and outcome.rolled_back_to is None


def test_rollback_by_hand_goes_to_the_release_before_the_live_one_or_to_the_one_named(rollout):
    for version in ("v1", "v2", "v3"):
        rollout.deploy(facts(f"model: {version}"))
    back = rollout.rollback(None, "abc123")
    assert back.ok and back.release.config == "model: v2" and back.release.rollback_of == 2
    assert back.rolled_back_to is None  # it went live: nothing restored
    named = rollout.rollback(1, "abc123")
    assert named.release.config == "model: v1" and named.release.id == 5


def test_rollback_by_hand_skips_releases_with_the_live_config(rollout):
    rollout.deploy(facts("model: v1"))
    rollout.deploy(facts("model: v2"))
    rollout.deploy(facts("model: v2"))  # redeployed unchanged
    assert rollout.rollback(None, "abc123").release.config == "model: v1"


def test_a_rollback_to_a_release_that_fails_restores_the_live_one(rollout):
    rollout.deploy(facts("model: v1"))
    rollout.deploy(facts("model: broken"))  # failed, rolled back: release 3 is v1 again
    rollout.deploy(facts("model: v2"))
    outcome = rollout.rollback(2, "abc123")
    assert not outcome.ok and outcome.release.rollback_of == 2
    assert outcome.rolled_back_to is not None and outcome.rolled_back_to.config == "model: v2"
    assert rollout.cluster.applied[-1] == "model: v2"  # type: ignore[attr-defined]


def test_rollback_with_a_single_release_says_there_is_nothing_to_go_back_to(rollout):
    rollout.deploy(facts("model: v1"))
    with pytest.raises(NothingToRollBackTo):
        rollout.rollback(None, "abc123")


def test_rollback_says_when_the_code_on_the_nodes_differs_from_the_releases(rollout):
    said: list[str] = []
    rollout.say = said.append
    rollout.deploy(facts("model: v1", code="old"))
    rollout.deploy(facts("model: v2", code="new"))
    rollout.rollback(1, "new")
    assert any("ran code old" in line and "the code on the nodes stays" in line for line in said)


def test_model_versions_come_from_the_llm_nodes_user_config(tmp_path):
    (tmp_path / "tuned").mkdir()
    (tmp_path / "tuned" / "tutor-model.json").write_text('{"version": "tuned@42"}')
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    llm = next(d for d in config["applications"][0]["deployments"] if d["name"] == "LLM-local")
    llm["user_config"]["model_dir"] = "tuned"
    assert model_versions(config, tmp_path) == {"local": "tuned@42"}
    llm["user_config"]["model_dir"] = "not-there"
    assert model_versions(config, tmp_path) == {"local": "not-there"}


HEALTHY = {
    "vector_store": {"shards": {"chemistry": {"status": "healthy"}}},
    "llm:local": {"status": "healthy", "model": "smollm2", "version": "smollm2@1"},
}


def test_components_fail_on_a_sick_shard_or_a_model_that_is_not_the_releases():
    assert component_problems(HEALTHY, {"local": "smollm2@1", "openai-fast": "gpt-4o-mini"}) == []
    sick = {**HEALTHY, "vector_store": {"shards": {"chemistry": {"status": "unhealthy"}}}}
    assert component_problems(sick, {}) == ["shard chemistry is unhealthy: "]
    kept = {**HEALTHY, "llm:local": {**HEALTHY["llm:local"], "swap_error": "no such dir"}}
    (problem,) = component_problems(kept, {"local": "tuned@2"})
    assert problem == "llm:local serves smollm2@1, not tuned@2 (no such dir)"


def test_the_shipped_smoke_set_names_sources_of_the_demo_curriculum():
    smoke = load_smoke_set(ROOT / "config" / "smoke.yaml")
    subjects = {q.expect_source.split(":")[0] for q in smoke.questions}
    assert subjects == {"chemistry", "computing", "english"}
    assert any(q.answer for q in smoke.questions)


@pytest.fixture
async def tutor(chemistry_shards):
    router = local_router(HashingEmbedder(), chemistry_shards, {"local": EchoSourceBackend()})
    app, _ = local_api(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tutor") as client:
        yield client


# Generous budgets here: a first search compiles bm25s's scorer (seconds on a busy CI core);
# the budget's own check is the test after these.
SMOKE = SmokeSet(
    search_budget_s=120,
    answer_budget_s=120,
    metrics_wait_s=0,
    questions=[
        SmokeQuestion(
            question="What is the atomic number of carbon?",
            expect_source="chemistry:carbon",
            answer=True,
        )
    ],
)


async def test_verification_passes_on_a_tutor_that_answers_with_the_known_source(tutor):
    result = await Verifier(tutor, SMOKE).run({"local": "echo-source@1"})
    assert result.passed, result.summary()
    names = [c.name for c in result.checks]
    assert names[:2] == ["ready", "components"] and names[-1] == "metrics"


async def test_verification_names_a_missing_source_and_a_model_that_did_not_swap(tutor):
    gone = SMOKE.model_copy(
        update={"questions": [SMOKE.questions[0].model_copy(update={"expect_source": "x:gone"})]}
    )
    result = await Verifier(tutor, gone).run({"local": "tuned@2"})
    failed = {c.name: c.detail for c in result.failed}
    assert "x:gone not among the sources" in failed["search: What is the atomic number of carbon?"]
    assert "llm:local serves echo-source@1, not tuned@2" in failed["components"]
    assert "verification failed" in result.summary()


async def test_a_check_over_its_budget_fails_saying_so(tutor):
    slow = SMOKE.model_copy(update={"search_budget_s": 1e-6})
    result = await Verifier(tutor, slow).run()
    (search,) = [c for c in result.failed if c.name.startswith("search")]
    assert "over its" in search.detail and "budget" in search.detail
