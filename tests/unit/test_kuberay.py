"""The KubeRay manifests are what a cluster would accept: the RayService against KubeRay's own
CRD schema, the other documents against Kubernetes' schemas (kubernetes-validate, offline), with
unknown fields refused as `kubectl apply` does by default (server-side strict field validation).
No Kubernetes API server runs here: this is the part of `kubectl apply` a schema decides."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT

KUBERAY = ROOT / "deploy" / "kuberay"
CRD = KUBERAY / "schemas" / "ray.io_rayservices.v1.3.2.yaml"
# A Kubernetes minor that KubeRay 1.3 supports and kubernetes-validate ships schemas for.
KUBERNETES = "1.30.0"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRD is ~1 MB of YAML


def documents() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(KUBERAY.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused where Kubernetes refuses them: every object that
    lists its properties and does not preserve unknown fields (the API server prunes them, and
    strict field validation, kubectl's default, turns the pruning into an error)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: closed(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def rayservice_schema(strict: bool = True) -> dict[str, Any]:
    crd = yaml.load(CRD.read_text(), Loader=Loader)
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = v1["schema"]["openAPIV3Schema"]
    return closed(schema) if strict else schema


def problems(doc: dict[str, Any], strict: bool = True) -> list[str]:
    """What the cluster would refuse in `doc`, dispatched on its apiVersion and kind."""
    if (doc["apiVersion"], doc["kind"]) == ("ray.io/v1", "RayService"):
        validator = jsonschema.Draft4Validator(rayservice_schema(strict))
        return [
            f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(doc)
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES, strict=strict)
    except kubernetes_validate.ValidationError as error:
        return [str(error)]
    return []


def rayservice() -> dict[str, Any]:
    (doc,) = [d for d in documents() if d["kind"] == "RayService"]
    return copy.deepcopy(doc)


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_manifest_document_validates_against_its_schema(doc: dict[str, Any]):
    assert problems(doc) == []


def test_the_manifests_hold_a_rayservice_and_the_volume_it_claims():
    kinds = {d["kind"] for d in documents()}
    assert {"RayService", "PersistentVolumeClaim"} <= kinds
    claims = {d["metadata"]["name"] for d in documents() if d["kind"] == "PersistentVolumeClaim"}
    cluster = rayservice()["spec"]["rayClusterConfig"]
    pods = [cluster["headGroupSpec"]] + cluster["workerGroupSpecs"]
    for group in pods:
        volumes = {v["name"]: v for v in group["template"]["spec"]["volumes"]}
        assert {v["persistentVolumeClaim"]["claimName"] for v in volumes.values()} <= claims
        for container in group["template"]["spec"]["containers"]:
            assert {m["name"] for m in container["volumeMounts"]} <= set(volumes)
            assert {"name": "DATA_DIR", "value": "/data"} in container["env"]


def test_the_head_migrates_the_database_before_ray_starts():
    head = rayservice()["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
    first, *_ = head["initContainers"]
    assert first["command"] == ["tutor", "migrate"]
    assert first["image"] == head["containers"][0]["image"]


def test_a_misspelt_cluster_field_is_refused_with_its_path():
    doc = rayservice()
    cluster = doc["spec"]["rayClusterConfig"]
    cluster["enableInTreeAutoscalling"] = cluster.pop("enableInTreeAutoscaling")
    # The CRD schema alone accepts it (it lists properties, it does not close them): the API
    # server would drop the field silently with field validation off. Strict refuses it.
    assert problems(doc, strict=False) == []
    (problem,) = problems(doc)
    assert problem.startswith("spec.rayClusterConfig: Additional properties")
    assert "enableInTreeAutoscalling" in problem


def test_a_misspelt_mount_in_a_pod_template_and_a_wrong_type_are_refused():
    doc = rayservice()
    worker = doc["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    container = worker["template"]["spec"]["containers"][0]
    container["volumeMount"] = container.pop("volumeMounts")
    worker["replicas"] = "two"
    found = problems(doc)
    assert any("volumeMount'" in p for p in found)
    assert any(p.startswith("spec.rayClusterConfig.workerGroupSpecs.0.replicas") for p in found)


def test_a_misspelt_claim_field_is_refused():
    (claim,) = [d for d in documents() if d["kind"] == "PersistentVolumeClaim"]
    claim["spec"]["accessMode"] = claim["spec"].pop("accessModes")
    (problem,) = problems(claim)
    assert "'accessMode' was unexpected" in problem


def test_the_vendored_crd_names_its_source():
    header = CRD.read_text()[:600]
    assert "v1.3.2" in header and "Apache-2.0" in header
    assert Path(CRD).stat().st_size > 500_000  # the whole upstream file, not an excerpt
