"""deploy/ checked without Docker: every YAML parses, promtool accepts the Prometheus files and the recording
rules compute the generator's ground truth, every container command is a real `codex-bot` sub-command, the
Codex snippet points at ingest's /v1/logs, .env.example names exactly the real settings, the Collector config
produces the contract's names, labels and buckets, and the images' health checks answer like the real servers.

CI runs neither Docker nor the OpenTelemetry Collector: these are static checks plus what runs on this machine.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_fleet import require_binaries
from promhelpers import ingest_server

from codex_bot.charts.local_renderer import LocalRenderer
from codex_bot.cli import build_parser
from codex_bot.settings import Settings, env_name
from codex_bot.telemetry.contract import FAMILIES, TOOL_DURATION_BUCKETS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
COMPOSE = DEPLOY / "docker-compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
COLLECTOR = DEPLOY / "otel-collector" / "config.yaml"
CODEX_IMAGE = "codex-bot"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*.y*ml") if "node_modules" not in p.parts)


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    _, binary = require_binaries()
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def assert_subcommand(argv: list[str]) -> None:
    """``argv`` parses as a real ``codex-bot`` sub-command (argparse exits on anything else)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"not a valid codex-bot command line: codex-bot {shlex.join(argv)}")
    assert callable(args.handler)


def compose_services() -> dict[str, dict[str, Any]]:
    return load_yaml(COMPOSE)["services"]


def codex_bot_services() -> dict[str, dict[str, Any]]:
    """Compose services built from deploy/Dockerfile (their command runs after the `codex-bot` entrypoint)."""
    return {
        name: svc
        for name, svc in compose_services().items()
        if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile") == "deploy/Dockerfile"
    }


def listen_port(argv: list[str]) -> int:
    return int(argv[argv.index("--listen") + 1].rpartition(":")[2])


# --- YAML and Prometheus -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_file_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
    assert documents and all(isinstance(doc, dict) for doc in documents)


def test_prometheus_config_and_rules_pass_promtool() -> None:
    config = promtool("check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)
    assert config.returncode == 0, config.stdout + config.stderr
    rules = promtool("check", "rules", "rules.yml", cwd=PROMETHEUS_DIR)
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_prometheus_scrapes_ingest_where_compose_listens() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "codex-ingest")
    host, _, port = job["static_configs"][0]["targets"][0].rpartition(":")
    assert host in compose_services()
    assert int(port) == listen_port(compose_services()[host]["command"])
    assert job.get("metrics_path", "/metrics") == "/metrics"


RULE = re.compile(r"^sum by \(([\w, ]+)\) \(increase\((\w+)\[1h\]\)\)$")
FAMILY_BY_SERIES = {f.series_name: f for f in FAMILIES} | {f.name + "_bucket": f for f in FAMILIES}


def recording_rules() -> list[dict[str, str]]:
    groups = load_yaml(PROMETHEUS_DIR / "rules.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def parsed_rule(rule: dict[str, str]) -> tuple[tuple[str, ...], str]:
    match = RULE.match(rule["expr"])
    assert match, f"unexpected recording rule shape: {rule['expr']}"
    return tuple(label.strip() for label in match.group(1).split(",")), match.group(2)


def test_recording_rules_follow_the_naming_convention() -> None:
    for rule in recording_rules():
        by, series = parsed_rule(rule)
        level, metric, operation = rule["record"].split(":")
        assert operation == "increase1h"
        assert metric == series.removesuffix("_total")  # Prometheus convention: counters lose _total
        assert level.split("_") == [label for label in by if label != "le"], rule["record"]
        family = FAMILY_BY_SERIES[series]
        assert set(by) - {"le"} <= set(family.labels)


def synthetic_series(series: str, rng: random.Random, minutes: int) -> list[tuple[dict[str, str], list[int]]]:
    """Every label combination of ``series`` (two values per label) as a counter born at 0, one sample a minute."""
    family = FAMILY_BY_SERIES[series]
    names = list(family.labels) + (["le"] if series.endswith("_bucket") else [])
    combos: list[dict[str, str]] = [{}]
    for name in names:
        combos = [{**combo, name: f"{name}-{i}"} for combo in combos for i in (1, 2)]
    result = []
    for labels in combos:
        values = [0]
        for _ in range(minutes):
            values.append(values[-1] + rng.randint(0, 5))
        result.append((labels, values))
    return result


def promtool_labels(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def test_recording_rules_compute_hourly_increases_exactly(tmp_path: Path) -> None:
    """promtool evaluates every rule at 1h and 2h on generated counters; each equals the generator's sums."""
    rng, minutes, hours = random.Random(8), 120, (1, 2)
    inputs: dict[str, list[tuple[dict[str, str], list[int]]]] = {}
    tests = []
    for rule in recording_rules():
        by, series = parsed_rule(rule)
        inputs.setdefault(series, synthetic_series(series, rng, minutes))
        for hour in hours:
            expected: dict[tuple[str, ...], int] = defaultdict(int)
            for labels, values in inputs[series]:
                expected[tuple(labels[label] for label in by)] += values[60 * hour] - values[60 * (hour - 1)]
            samples = [
                {"labels": promtool_labels(rule["record"], dict(zip(by, key, strict=True))), "value": value}
                for key, value in sorted(expected.items())
            ]
            tests.append({"expr": rule["record"], "eval_time": f"{hour}h", "exp_samples": samples})
    spec = {
        "rule_files": [str(PROMETHEUS_DIR / "rules.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": promtool_labels(series, labels), "values": " ".join(map(str, values))}
                    for series, all_series in inputs.items()
                    for labels, values in all_series
                ],
                "promql_expr_test": tests,
            }
        ],
    }
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


# --- commands: Compose, Kubernetes, images ---------------------------------------------------------------


def test_compose_runs_real_subcommands_with_serve_and_ingest() -> None:
    services = codex_bot_services()
    commands = {name: svc["command"] for name, svc in services.items()}
    for argv in commands.values():
        assert_subcommand(argv)
    assert {argv[0] for argv in commands.values()} == {"serve", "ingest"}
    assert commands["ingest"][commands["ingest"].index("--listen") + 1].startswith("0.0.0.0:")
    assert "4318:4318" in services["ingest"]["ports"]


def test_compose_serve_finds_prometheus_renderer_and_state_volume() -> None:
    services = compose_services()
    serve = services["codex-bot-serve"]
    environment = serve["environment"]
    assert "http://prometheus:9090" in environment["CODEX_BOT_PROMETHEUS_URL"]
    renderer_port = services["chart-renderer"].get("environment", {}).get("PORT", 13400)
    assert f"http://chart-renderer:{renderer_port}" in environment["CODEX_BOT_QUICKCHART_URL"]
    assert any(
        volume.startswith("state:") and environment["CODEX_BOT_STATE_DB"].startswith(volume.split(":")[1])
        for volume in serve["volumes"]
    )
    prometheus_flags = services["prometheus"]["command"]
    assert "--storage.tsdb.retention.time=400d" in prometheus_flags


def kubernetes_documents() -> list[dict[str, Any]]:
    kustomization = load_yaml(KUBERNETES / "kustomization.yaml")
    return [
        doc
        for resource in kustomization["resources"]
        for doc in yaml.safe_load_all((KUBERNETES / resource).read_text(encoding="utf-8"))
        if doc
    ]


def test_kubernetes_containers_run_real_subcommands_and_named_images() -> None:
    kustomization = load_yaml(KUBERNETES / "kustomization.yaml")
    image_names = {image["name"] for image in kustomization["images"]}
    containers = [
        c
        for doc in kubernetes_documents()
        if doc["kind"] == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
    ]
    assert {c["image"] for c in containers} == image_names
    bot_commands = [c["args"] for c in containers if c["image"] == CODEX_IMAGE]
    for argv in bot_commands:
        assert_subcommand(argv)
    assert sorted(argv[0] for argv in bot_commands) == ["ingest", "serve"]


def test_kubernetes_serve_keeps_one_replica_on_its_volume() -> None:
    serve = next(
        doc
        for doc in kubernetes_documents()
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "codex-bot-serve"
    )
    assert serve["spec"]["replicas"] == 1 and serve["spec"]["strategy"]["type"] == "Recreate"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def copy_sources(instructions: list[tuple[str, str]]) -> list[str]:
    return [source for op, args in instructions if op == "COPY" for source in args.split()[:-1]]


def test_bot_image_installs_the_project_and_runs_codex_bot_unprivileged() -> None:
    instructions = dockerfile_instructions(DEPLOY / "Dockerfile")
    ops = dict(instructions)
    assert ops["FROM"] == "python:3.11-slim"
    assert json.loads(ops["ENTRYPOINT"]) == ["codex-bot"]
    assert ops["USER"] not in ("root", "0")
    assert any(op == "RUN" and "pip install ." in args for op, args in instructions)
    for source in copy_sources(instructions):
        assert (ROOT / source).exists(), f"deploy/Dockerfile copies {source}, which is missing"


def test_renderer_image_installs_production_packages_only() -> None:
    renderer = DEPLOY / "chart-renderer"
    instructions = dockerfile_instructions(renderer / "Dockerfile")
    ops = dict(instructions)
    assert ops["FROM"] == "node:20-slim"
    assert any(
        op == "RUN" and "npm ci --omit=dev" in args and "fonts-dejavu-core" not in args for op, args in instructions
    )
    assert any(op == "RUN" and "fonts-dejavu-core" in args for op, args in instructions)
    for source in copy_sources(instructions):
        assert (renderer / source).exists(), f"chart-renderer/Dockerfile copies {source}, which is missing"


def healthcheck_argv(path: Path) -> list[str]:
    args = dict(dockerfile_instructions(path))["HEALTHCHECK"]
    return json.loads(args[args.index("CMD") + 3 :].strip())


def run_healthcheck(argv: list[str], env: dict[str, str]) -> int:
    command = [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, timeout=30, check=False).returncode


def test_bot_healthcheck_follows_the_real_ingest() -> None:
    argv = healthcheck_argv(DEPLOY / "Dockerfile")
    with ingest_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/-/healthy"
        assert run_healthcheck(argv, {"HEALTHCHECK_URL": url}) == 0
    assert run_healthcheck(argv, {"HEALTHCHECK_URL": url}) != 0  # stopped: unhealthy
    assert run_healthcheck(argv, {"HEALTHCHECK_URL": ""}) == 0  # no URL (Socket Mode serve): the package loads


def test_renderer_healthcheck_follows_the_real_renderer() -> None:
    argv = healthcheck_argv(DEPLOY / "chart-renderer" / "Dockerfile")
    with LocalRenderer() as renderer:
        port = str(urlsplit(renderer.url).port)
        assert run_healthcheck(argv, {"PORT": port}) == 0
    assert run_healthcheck(argv, {"PORT": port}) != 0


# --- Codex snippet and settings ------------------------------------------------------------------------


def test_codex_snippet_sends_logs_to_ingest_without_prompts() -> None:
    otel = tomllib.loads((DEPLOY / "codex" / "config.toml.snippet").read_text(encoding="utf-8"))["otel"]
    exporter = otel["exporter"]["otlp-http"]
    endpoint = urlsplit(exporter["endpoint"])
    assert endpoint.path == "/v1/logs"
    assert endpoint.port == listen_port(compose_services()["ingest"]["command"])
    assert exporter["protocol"] in ("binary", "json")
    assert otel["log_user_prompt"] is False
    assert urlsplit(otel["metrics_exporter"]["otlp-http"]["endpoint"]).path == "/v1/metrics"


ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> dict[str, str]:
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    return {m.group(1): m.group(2) for m in map(ENV_LINE.match, lines) if m}


def test_env_example_lists_exactly_the_real_settings() -> None:
    documented = set(env_example())
    real = {env_name(field) for field in Settings.model_fields}
    assert not documented - real, f"not settings: {sorted(documented - real)}"
    assert not real - documented, f"settings missing from deploy/.env.example: {sorted(real - documented)}"


def test_env_example_values_all_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example value, commented or not, is accepted by the settings loader."""
    values = env_example()
    for name in values:
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
    settings = Settings(_env_file=env_file)
    assert settings.slack_mode == "socket"
    assert settings.prometheus_headers == {"X-Scope-OrgID": "team-a"}


# --- OpenTelemetry Collector -----------------------------------------------------------------------------

# Component types used, each checked against the contrib component's README or code.
COLLECTOR_COMPONENTS = {
    "receivers": {"otlp"},
    "processors": {"transform", "batch", "deltatocumulative"},
    "connectors": {"count", "signaltometrics"},
    "exporters": {"prometheus"},
}


def test_collector_pipelines_use_defined_known_components() -> None:
    config = load_yaml(COLLECTOR)
    for kind, known in COLLECTOR_COMPONENTS.items():
        assert {name.split("/")[0] for name in config[kind]} <= known
    connectors = set(config["connectors"])
    for pipeline in config["service"]["pipelines"].values():
        assert set(pipeline["receivers"]) <= set(config["receivers"]) | connectors
        assert set(pipeline.get("processors", [])) <= set(config["processors"])
        assert set(pipeline["exporters"]) <= set(config["exporters"]) | connectors


def collector_metrics() -> dict[str, tuple[tuple[str, ...], dict[str, Any]]]:
    """Metric name → (label keys, definition) for every metric the Collector's connectors produce."""
    connectors = load_yaml(COLLECTOR)["connectors"]
    metrics = {
        name: (tuple(a["key"] for a in spec["attributes"]), spec) for name, spec in connectors["count"]["logs"].items()
    }
    for spec in connectors["signaltometrics"]["logs"]:
        metrics[spec["name"]] = (tuple(a["key"] for a in spec["attributes"]), spec)
    return metrics


def test_collector_produces_the_metric_contract() -> None:
    metrics = collector_metrics()
    assert {name: labels for name, (labels, _) in metrics.items()} == {f.name: f.labels for f in FAMILIES}
    duration = metrics["codex_tool_duration_seconds"][1]["histogram"]
    assert tuple(duration["buckets"]) == TOOL_DURATION_BUCKETS
    token_types = [
        a["default_value"]
        for spec in load_yaml(COLLECTOR)["connectors"]["signaltometrics"]["logs"]
        if spec["name"] == "codex_tokens"
        for a in spec["attributes"]
        if a["key"] == "type"
    ]
    assert token_types == ["input", "cached_input", "output", "reasoning_output"]


# --- Scale-out: two bots on PostgreSQL, balanced ingest, a VictoriaMetrics cluster ------------------------

SCALE_OUT = DEPLOY / "scale-out"
SCALE_OUT_K8S = SCALE_OUT / "kubernetes"


def scale_out_services() -> dict[str, dict[str, Any]]:
    return load_yaml(SCALE_OUT / "docker-compose.yml")["services"]


def flag_values(argv: list[str], flag: str) -> list[str]:
    """Every value of ``-flag=value`` in a VictoriaMetrics command line."""
    return [arg.split("=", 1)[1] for arg in argv if arg.startswith(f"-{flag}=")]


def test_scale_out_compose_runs_two_bots_on_postgresql() -> None:
    services = scale_out_services()
    serve = services["codex-bot-serve"]
    assert_subcommand(serve["command"])
    assert serve["command"] == ["serve"]
    assert serve["deploy"]["replicas"] >= 2
    environment = serve["environment"]
    assert "volumes" not in serve and "CODEX_BOT_STATE_DB" not in environment, "state lives in PostgreSQL only"
    url = urlsplit(re.sub(r"\$\{[^}]*\}", "PASSWORD", environment["CODEX_BOT_DATABASE_URL"]))  # Compose interpolation
    assert url.scheme == "postgresql+psycopg" and url.hostname in services and url.port == 5432
    postgres = services[url.hostname]
    assert postgres["image"].startswith("postgres:")
    assert url.path.lstrip("/") == postgres["environment"]["POSTGRES_DB"]
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert serve["depends_on"][url.hostname]["condition"] == "service_healthy"
    real = {env_name(field) for field in Settings.model_fields}
    assert {name for name in environment if name.startswith("CODEX_BOT_")} <= real


def test_scale_out_ingest_replicas_sit_behind_the_balancer() -> None:
    services = scale_out_services()
    ingest = services["ingest"]
    assert_subcommand(ingest["command"])
    assert ingest["command"][0] == "ingest" and ingest["deploy"]["replicas"] >= 2 and "ports" not in ingest
    port = listen_port(ingest["command"])
    nginx = (SCALE_OUT / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(rf"^\s*server ingest:{port};", nginx, re.MULTILINE), "the upstream is every ingest replica"
    assert re.search(rf"^\s*listen {port};", nginx, re.MULTILINE)
    assert "non_idempotent" not in nginx, "a POST an ingest replica received is never sent again"
    assert f"{port}:{port}" in services["ingest-lb"]["ports"]
    body = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert body and int(body.group(1)) * 2**20 >= Settings.model_fields["ingest_max_body_bytes"].default


def test_vmagent_scrapes_every_ingest_replica_into_the_cluster() -> None:
    services = scale_out_services()
    argv = services["vmagent"]["command"]
    (config_path,) = flag_values(argv, "promscrape.config")
    mounted = {target: source for source, target, *_ in (v.split(":") for v in services["vmagent"]["volumes"])}
    config_file = SCALE_OUT / mounted[config_path]
    check = subprocess.run(
        ["vmagent", f"-promscrape.config={config_file}", "-dryRun"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr  # the real vmagent (Debian victoria-metrics) accepts it
    (job,) = load_yaml(config_file)["scrape_configs"]
    (discovery,) = job["dns_sd_configs"]
    assert discovery["names"] == ["ingest"] and discovery["port"] == listen_port(services["ingest"]["command"])
    (write,) = flag_values(argv, "remoteWrite.url")
    target = urlsplit(write)
    assert target.hostname == "vminsert" and target.path == "/insert/0/prometheus/api/v1/write"


def test_the_victoriametrics_cluster_wires_every_storage_node() -> None:
    services = scale_out_services()
    storage = sorted(
        name for name, svc in services.items() if svc.get("image", "").startswith("victoriametrics/vmstorage")
    )
    assert len(storage) >= 2
    versions = {svc["image"].rsplit(":", 1)[1] for name, svc in services.items() if name.startswith("vm")}
    assert versions <= {"v1.79.5", "v1.79.5-cluster"}, "the release the tests run (Debian's 1.79)"
    for name, port in (("vminsert", 8400), ("vmselect", 8401)):
        assert sorted(flag_values(services[name]["command"], "storageNode")) == [f"{s}:{port}" for s in storage]
    replication = int(flag_values(services["vminsert"]["command"], "replicationFactor")[0])
    assert replication == len(storage)
    assert flag_values(services["vmselect"]["command"], "dedup.minScrapeInterval") == ["1ms"]
    for name in storage:
        assert flag_values(services[name]["command"], "retentionPeriod") == ["400d"]
    query = urlsplit(services["codex-bot-serve"]["environment"]["CODEX_BOT_PROMETHEUS_URL"])
    assert (query.hostname, query.port, query.path) == ("vmselect", 8481, "/select/0/prometheus")


def scale_out_k8s() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kustomization = load_yaml(SCALE_OUT_K8S / "kustomization.yaml")
    patches = [
        doc
        for patch in kustomization["patches"]
        for doc in yaml.safe_load_all((SCALE_OUT_K8S / patch["path"]).read_text(encoding="utf-8"))
        if doc
    ]
    return kustomization, patches


def test_kubernetes_scale_out_patches_the_base_onto_postgresql() -> None:
    kustomization, patches = scale_out_k8s()
    assert "../../kubernetes" in kustomization["resources"]
    base = {(doc["kind"], doc["metadata"]["name"]): doc for doc in kubernetes_documents()}
    for patch in patches:
        assert (patch["kind"], patch["metadata"]["name"]) in base, f"patch of nothing: {patch['metadata']['name']}"
    serve = next(p for p in patches if p["metadata"]["name"] == "codex-bot-serve")
    assert serve["spec"]["replicas"] >= 2 and serve["spec"]["strategy"]["type"] == "RollingUpdate"
    (container,) = serve["spec"]["template"]["spec"]["containers"]
    base_containers = base[("Deployment", "codex-bot-serve")]["spec"]["template"]["spec"]["containers"]
    assert container["name"] in {c["name"] for c in base_containers}
    env = {e["name"]: e for e in container["env"]}
    assert env["CODEX_BOT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "url"
    (state,) = serve["spec"]["template"]["spec"]["volumes"]
    assert state == {"name": "state", "persistentVolumeClaim": None, "emptyDir": {}}
    deleted = [p for p in patches if p.get("$patch") == "delete"]
    assert [(p["kind"], p["metadata"]["name"]) for p in deleted] == [("PersistentVolumeClaim", "codex-bot-state")]
    ingest = next(p for p in patches if p["metadata"]["name"] == "codex-bot-ingest")
    assert ingest["spec"]["replicas"] >= 2


def test_kubernetes_scale_out_scrapes_ingest_pods_into_a_vmcluster() -> None:
    kustomization, patches = scale_out_k8s()
    docs = {
        doc["kind"]: doc
        for resource in kustomization["resources"]
        if resource.endswith(".yaml")
        for doc in yaml.safe_load_all((SCALE_OUT_K8S / resource).read_text(encoding="utf-8"))
        if doc
    }
    cluster = docs["VMCluster"]
    name = cluster["metadata"]["name"]
    assert cluster["spec"]["vmstorage"]["replicaCount"] >= cluster["spec"]["replicationFactor"] >= 2
    assert cluster["spec"]["vmselect"]["extraArgs"]["dedup.minScrapeInterval"] == "1ms"
    agent, scrape = docs["VMAgent"], docs["VMPodScrape"]
    write = urlsplit(agent["spec"]["remoteWrite"][0]["url"])
    assert write.hostname.split(".")[0] == f"vminsert-{name}" and write.path == "/insert/0/prometheus/api/v1/write"
    assert scrape["metadata"]["labels"].items() >= agent["spec"]["podScrapeSelector"]["matchLabels"].items()
    ingest = next(
        doc
        for doc in kubernetes_documents()
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "codex-bot-ingest"
    )
    template = ingest["spec"]["template"]
    assert template["metadata"]["labels"].items() >= scrape["spec"]["selector"]["matchLabels"].items()
    ports = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
    assert {e["port"] for e in scrape["spec"]["podMetricsEndpoints"]} <= ports
    serve = next(p for p in patches if p["metadata"]["name"] == "codex-bot-serve")
    env = {e["name"]: e.get("value") for e in serve["spec"]["template"]["spec"]["containers"][0]["env"]}
    query = urlsplit(env["CODEX_BOT_PROMETHEUS_URL"])
    assert (query.hostname.split(".")[0], query.port, query.path) == (f"vmselect-{name}", 8481, "/select/0/prometheus")
