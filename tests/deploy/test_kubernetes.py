"""``deploy/kubernetes/``: every manifest validates against Kubernetes 1.37's schemas (offline,
``kubernetes-validate``, strict: no unknown fields), and says what docs/operations.md promises."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.paths import ROOT

VERSION = "1.37.0"


def manifests() -> dict[str, dict[str, Any]]:
    docs = {}
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[doc["kind"]] = doc
    return docs


@pytest.mark.parametrize("kind", ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"])
def test_manifest_validates(kind: str) -> None:
    kubernetes_validate.validate(manifests()[kind], VERSION, strict=True)


def test_the_deployment_is_what_the_docs_say() -> None:
    docs = manifests()
    pod = docs["Deployment"]["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] and pod["spec"]["securityContext"]["runAsUser"] == 10001
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["cpu"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert pod["spec"]["terminationGracePeriodSeconds"] > 8  # longer than DIGITPAD_GRACEFUL_TIMEOUT


def test_the_validation_would_catch_a_mistake() -> None:
    broken = manifests()["Deployment"]
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)
