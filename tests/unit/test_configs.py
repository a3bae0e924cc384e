"""The shipped serve configs: every name, arg and user_config is one the code accepts, the CPU
config fits a 2-CPU head at full scale, and the KubeRay manifest carries the GPU config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deployments.embedder import EmbedderConfig
from deployments.retriever import ShardConfig
from graphs.tutor import TutorAppArgs, node_names
from models.specs import VLLMSpec
from service.router import RouterConfig
from tests.conftest import ROOT

CONFIGS = ["serve_config.yaml", "serve_config.gpu.yaml"]


def app_of(name: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / name).read_text())
    (app,) = config["applications"]
    return dict(app)


@pytest.mark.parametrize("name", CONFIGS)
def test_deployments_named_in_a_config_are_nodes_of_the_graph(name: str):
    app = app_of(name)
    args = TutorAppArgs.model_validate(app["args"])
    named = {d["name"] for d in app["deployments"]}
    assert named <= node_names(args, with_reranker=True)
    assert node_names(args, with_reranker=False) <= named  # every node sized explicitly


@pytest.mark.parametrize("name", CONFIGS)
def test_every_user_config_validates_against_its_node(name: str):
    for deployment in app_of(name)["deployments"]:
        config = deployment.get("user_config")
        if deployment["name"] == "Router":
            RouterConfig.model_validate(config)
        elif deployment["name"].startswith("Retriever-"):
            ShardConfig.model_validate(config)
        elif deployment["name"].startswith("LLM-"):
            VLLMSpec.model_validate(config)
        elif deployment["name"] == "Embedder" and config is not None:
            EmbedderConfig.model_validate(config)


def test_the_cpu_config_fits_a_two_cpu_head_at_maximum_scale():
    total = sum(
        d["ray_actor_options"]["num_cpus"] * d["autoscaling_config"]["max_replicas"]
        for d in app_of("serve_config.yaml")["deployments"]
    )
    assert total <= 2.0


def test_the_kuberay_service_serves_the_gpu_config_verbatim():
    manifest = yaml.safe_load(Path(ROOT / "deploy/kuberay/rayservice.yaml").read_text())
    embedded = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    assert embedded == yaml.safe_load((ROOT / "serve_config.gpu.yaml").read_text())
