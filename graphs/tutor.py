"""The tutor graph: Ingress -> Router -> {Embedder, Retriever-<subject>..., Reranker} -> LLM-<name>.

`POST /api/v1/retrieval/search` goes Ingress -> {Embedder, Retriever-<subject>..., Reranker}:
the router adds nothing to a search but a hop (its search settings still apply).

`serve_config.yaml` points at `build_app` (`import_path: graphs.tutor:build_app`) and passes
`TutorAppArgs` as `args`. The options below are defaults sized for a 2-CPU machine; the YAML's
`deployments:` entries override them (replicas, autoscaling, actor resources, user_config).
"""

# No `from __future__ import annotations` here: Serve reads build_app's annotation at run time
# to validate the config's `args:` into TutorAppArgs, which a string annotation would defeat.
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ray import serve
from ray.serve import Application
from ray.serve.deployment import Deployment

from cluster.settings import get_settings
from deployments.embedder import EmbedderServer
from deployments.ingress import TutorIngress
from deployments.llm import LLMServer
from deployments.reranker import RerankerServer
from deployments.retriever import RetrieverShardServer
from deployments.router import RouterServer
from models.prepare import MODEL_NAME
from models.specs import BackendSpec, OpenAISpec, VLLMSpec
from retrieval.embedder import embedder_name

LOCAL_MODEL = MODEL_NAME
RERANKER_MODEL = "reranker"


def sized(
    num_cpus: float, max_replicas: int, target: float, max_ongoing: int, **extra: Any
) -> dict[str, Any]:
    """A node's default deployment options (the YAML's entries override them)."""
    autoscaling = {
        "min_replicas": 1,
        "max_replicas": max_replicas,
        "target_ongoing_requests": target,
        "upscale_delay_s": 3,
        "downscale_delay_s": 30,
    }
    return {
        "max_ongoing_requests": max_ongoing,
        "autoscaling_config": autoscaling,
        "ray_actor_options": {"num_cpus": num_cpus},
        **extra,
    }


# Fractional CPUs so that every node, scaled to its maximum, fits a 2-CPU head. Batching nodes
# take many requests at once so that @serve.batch can fill its batches.
INGRESS = sized(0.05, max_replicas=2, target=20, max_ongoing=200)
ROUTER = sized(0.05, max_replicas=2, target=20, max_ongoing=200)
EMBEDDER = sized(0.25, max_replicas=2, target=16, max_ongoing=64)
RERANKER = sized(0.25, max_replicas=2, target=8, max_ongoing=32)
SHARD = sized(0.05, max_replicas=2, target=16, max_ongoing=64)
LLM = sized(
    0.5,
    max_replicas=1,
    target=16,
    max_ongoing=32,
    health_check_timeout_s=60,
    graceful_shutdown_timeout_s=30,
)
# A tier behind a remote API only relays tokens: it waits on the network, not the CPU.
REMOTE_LLM = sized(0.05, max_replicas=2, target=16, max_ongoing=64)


def llm_options(spec: BackendSpec) -> dict[str, Any]:
    """A node's defaults by its backend, with the spec as its default user_config."""
    base = REMOTE_LLM if isinstance(spec, OpenAISpec) else LLM
    return {**base, "user_config": spec.model_dump()}


class TutorAppArgs(BaseModel):
    """The application's build arguments (`args:` in serve_config.yaml)."""

    model_config = ConfigDict(extra="forbid")

    index_dir: str | None = Field(None, description="Default: $DATA_DIR/indexes.")
    subjects: list[str] = Field(
        default_factory=lambda: ["chemistry", "computing", "english"],
        min_length=1,
        description="One retriever shard deployment per subject; adding one is config only.",
    )
    embedder_model_path: str | None = Field(
        None, description="Default: $EMBEDDER_MODEL_PATH, else the shipped MiniLM."
    )
    reranker_model_dir: str | None = Field(
        None, description="Default: $DATA_DIR/models/reranker when it exists, else no reranker."
    )
    llm_backends: dict[str, BackendSpec] = Field(
        default_factory=dict, description="Default: {'local': vLLM on the prepared SmolLM2}."
    )
    tiers: list[str] | None = Field(
        None, min_length=1, description="Deploy only these backends (an environment's overlay)."
    )

    @model_validator(mode="after")
    def _tiers_are_backends(self) -> "TutorAppArgs":
        known = set(self.llm_backends or default_backends())
        unknown = [t for t in self.tiers or [] if t not in known]
        if unknown:
            raise ValueError(f"tiers {unknown} are not backends ({', '.join(sorted(known))})")
        return self


def default_backends() -> dict[str, BackendSpec]:
    """The local model, plus the seed's two OpenAI tiers (dropped again without a key)."""
    return {
        "local": VLLMSpec(model_dir=LOCAL_MODEL),
        "openai-fast": OpenAISpec(model="gpt-4o-mini"),
        "openai-strong": OpenAISpec(model="gpt-4o"),
    }


def deployable_backends(args: TutorAppArgs) -> dict[str, BackendSpec]:
    """The configured backends this environment can run: OpenAI tiers need OPENAI_API_KEY.

    Without one, every route falls through to the local model (RoutePolicy.chain skips names
    that are not deployed) and /health/detailed says so.
    """
    configured = args.llm_backends or default_backends()
    if args.tiers is not None:
        configured = {n: s for n, s in configured.items() if n in args.tiers}
    has_key = get_settings().openai_api_key is not None
    return {n: s for n, s in configured.items() if has_key or not isinstance(s, OpenAISpec)}


def reranker_dir(args: TutorAppArgs) -> Path | None:
    if args.reranker_model_dir is not None:
        return Path(args.reranker_model_dir)
    candidate = get_settings().models_dir / RERANKER_MODEL
    return candidate if candidate.is_dir() else None


def shard_name(subject: str) -> str:
    return f"Retriever-{subject}"


def llm_name(backend: str) -> str:
    return f"LLM-{backend}"


def node_names(args: TutorAppArgs, with_reranker: bool) -> set[str]:
    """The deployments `build_app` creates: what a config's `deployments:` may name."""
    backends = list(deployable_backends(args))
    return (
        {"Ingress", "Router", "Embedder"}
        | {shard_name(s) for s in args.subjects}
        | {llm_name(b) for b in backends}
        | ({"Reranker"} if with_reranker else set())
    )


def node(cls: type, name: str, options: dict[str, Any]) -> Deployment:
    return serve.deployment(name=name, **options)(cls)


def build_app(args: TutorAppArgs) -> Application:
    index_dir = args.index_dir or str(get_settings().index_dir)
    configured = args.embedder_model_path or get_settings().embedder_model_path
    embedder_path = Path(configured) if configured else None
    embedder = node(EmbedderServer, "Embedder", EMBEDDER).bind(
        str(embedder_path) if embedder_path else None
    )
    served_model = embedder_name(embedder_path)
    shards = {
        subject: node(RetrieverShardServer, shard_name(subject), SHARD).bind(
            subject, index_dir, served_model
        )
        for subject in args.subjects
    }
    rerank_dir = reranker_dir(args)
    reranker = (
        node(RerankerServer, "Reranker", RERANKER).bind(str(rerank_dir)) if rerank_dir else None
    )
    # The spec is also the default user_config: Serve then always calls reconfigure, which
    # loads the model (a YAML user_config overrides it, and later swaps it in place).
    llms = {
        name: node(LLMServer, llm_name(name), llm_options(spec)).bind(name, spec.model_dump())
        for name, spec in deployable_backends(args).items()
    }
    router = node(RouterServer, "Router", ROUTER).bind(embedder, shards, reranker, llms)
    # The ingress also holds the retrieval nodes: search-only requests skip the router.
    ingress = node(serve.ingress()(TutorIngress), "Ingress", INGRESS)
    return ingress.bind(router, embedder, shards, reranker)
