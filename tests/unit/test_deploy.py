"""deploy/: Prometheus rules checked and unit-tested by promtool, compose and Kubernetes manifests
consistent with each other and with the settings, the dashboard well formed, every runbook there."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.streams import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = ("parser", "validator", "notifier")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: `apt-get install prometheus` (Debian) provides it")
    return found


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=DEPLOY / "prometheus", capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_rules_and_the_config() -> None:
    rules = run_promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = run_promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = run_promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (DEPLOY / "prometheus" / "alerts.test.yml").read_text()))
    assert tested == {r["alert"] for r in alert_rules()}  # every alert has a test


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_every_alert_has_for_severity_and_a_runbook_that_exists() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {_anchor(line) for line in operations.splitlines() if line.startswith("#")}
    for rule in alert_rules():
        assert rule.get("for"), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor in anchors, (rule["alert"], anchor)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name in ("offices.yaml", "kustomization.yaml"):
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def test_compose_runs_each_service_from_one_image_with_redis_durable() -> None:
    c = compose()["services"]
    assert {"redis", *SERVICES, "prometheus", "grafana", "mailpit"} <= set(c)
    redis_cmd = " ".join(c["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--maxmemory-policy noeviction" in redis_cmd
    for name in SERVICES:
        svc = c[name]
        assert svc["image"] == "intake:latest" and svc["build"]["dockerfile"] == "Dockerfile"
        assert svc["command"] == ["serve", name]
        assert "/readyz" in " ".join(svc["healthcheck"]["test"])
        assert svc["environment"]["INTAKE_METRICS_PORT"] == "9464"
    assert c["notifier"]["environment"]["INTAKE_SMTP_HOST"] == "mailpit"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(targets) == sorted(f"{name}:9464" for name in SERVICES)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER \d+", dockerfile, re.M) and "EXPOSE 9464" in dockerfile and "HEALTHCHECK" in dockerfile


def test_kubernetes_manifests_agree_with_compose_and_the_settings() -> None:
    docs = k8s()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(d), d
        by_kind.setdefault(d["kind"], []).append(d)
    image = compose()["services"]["parser"]["image"]
    defaults = Settings()
    streams = {
        "parser": (defaults.submissions_stream, defaults.parser_group),
        "validator": (defaults.parsed_stream, defaults.validator_group),
        "notifier": (defaults.verdicts_stream, defaults.notifier_group),
    }
    deployments = {d["metadata"]["name"]: d for d in by_kind["Deployment"]}
    assert set(deployments) == {f"intake-{s}" for s in SERVICES}
    for name in SERVICES:
        spec = deployments[f"intake-{name}"]["spec"]
        labels = spec["selector"]["matchLabels"]
        assert spec["template"]["metadata"]["labels"] == labels
        [container] = spec["template"]["spec"]["containers"]
        assert container["image"] == image and container["args"] == ["serve", name]
        assert container["ports"] == [{"name": "metrics", "containerPort": 9464}]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        env = {e["name"]: e for e in container["env"]}
        assert "secretKeyRef" in env["INTAKE_REDIS_URL"]["valueFrom"]  # by reference, never inline
        assert env["INTAKE_CONSUMER"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        assert spec["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        pdb = next(p for p in by_kind["PodDisruptionBudget"] if p["metadata"]["name"] == f"intake-{name}")
        assert pdb["spec"]["selector"]["matchLabels"] == labels
        service = next(s for s in by_kind["Service"] if s["metadata"]["name"] == f"intake-{name}")
        assert service["spec"]["selector"] == labels and service["spec"]["ports"][0]["port"] == 9464
        scaled = next(s for s in by_kind["ScaledObject"] if s["spec"]["scaleTargetRef"]["name"] == f"intake-{name}")
        [trigger] = scaled["spec"]["triggers"]
        assert trigger["type"] == "redis-streams"
        assert (trigger["metadata"]["stream"], trigger["metadata"]["consumerGroup"]) == streams[name]
        assert trigger["metadata"]["addressFromEnv"] in env
        assert scaled["spec"]["minReplicaCount"] >= pdb["spec"]["minAvailable"]
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert all((DEPLOY / "k8s" / f).exists() for f in kustomization["resources"])
    config = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == "intake-settings")["data"]
    assert not any("PASSWORD" in k or "SECRET" in k for k in config)  # secrets are not config
    assert all(k.upper() in {f"INTAKE_{f.upper()}" for f in Settings.model_fields} for k in config)


def dashboard() -> dict[str, Any]:
    return json.loads((DEPLOY / "grafana" / "dashboards" / "intake.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_dashboard_is_provisioned_and_every_panel_queries_prometheus() -> None:
    d = dashboard()
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    uid = datasource["datasources"][0]["uid"]
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" / "intake.yaml").read_text())
    mounts = compose()["services"]["grafana"]["volumes"]
    assert any(m.endswith(":" + provider["providers"][0]["options"]["path"] + ":ro") for m in mounts)
    assert d["uid"] == "intake" and len(d["panels"]) >= 12
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for panel in d["panels"]:
        assert panel["datasource"]["uid"] == uid and panel["targets"], panel["title"]
        assert all(t["expr"] for t in panel["targets"])
    titles = " ".join(p["title"] for p in d["panels"]).lower()
    for wanted in ("throughput", "p99", "lag", "pending", "verdicts", "rules", "notices", "dead", "cpu", "memory"):
        assert wanted in titles, wanted


def metric_names() -> set[str]:
    """The metric names the dashboard and the alert rules use."""
    exprs = [t["expr"] for p in dashboard()["panels"] for t in p["targets"]] + [r["expr"] for r in alert_rules()]
    return {n for e in exprs for n in re.findall(r"\b((?:intake|process)_[a-z_]+)\b", e)}


def test_kustomize_renders_the_manifests_into_the_namespace() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed: it renders deploy/k8s (`kubectl kustomize`); install the client")
    result = subprocess.run([kubectl, "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    objects = [d for d in yaml.safe_load_all(result.stdout) if d]
    kinds = sorted(o["kind"] for o in objects)
    assert kinds.count("Deployment") == kinds.count("ScaledObject") == kinds.count("PodDisruptionBudget") == 3
    assert all(o["metadata"].get("namespace") == "intake" for o in objects if o["kind"] != "Namespace")
    offices = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "intake-offices")
    assert yaml.safe_load(offices["data"]["offices.yaml"])["offices"]  # the registry travels whole
