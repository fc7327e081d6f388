#!/usr/bin/env python3
"""Checks the deployment artifacts under ops/ against each other and against the product's facts
(settings, subcommands, metrics, the RabbitMQ definitions). Prints every problem, then a one-line
summary; exits 1 if there was any. Standard library plus PyYAML.

    python3 ops/check-artifacts.py
"""
import json
import re
import sys
from pathlib import Path

import yaml

OPS = Path(__file__).resolve().parent
ROOT = OPS.parent
NAMESPACE = "georep"
BINARY = "/usr/local/bin/georep"
ENV_FILE = "/etc/georep/georep.env"

SUBCOMMANDS = {"worker", "persister", "api", "migrate", "publish", "topology", "demo", "settings", "status", "turn"}

# Every setting the env example must list, True for secrets (never in a ConfigMap or a plain
# env value). GEOREP_CONFIG names a file of these lines; it is not one of them.
SETTINGS = {
    "GEOREP_AMQP_URL": True, "GEOREP_PG_URL": True, "GEOREP_SHARDS": False,
    "GEOREP_TOPOLOGY_PREFIX": False, "GEOREP_DECLARE_TOPOLOGY": False, "GEOREP_LOG_LEVEL": False, "GEOREP_LOG_FORMAT": False,
    "GEOREP_HTTP": False, "GEOREP_INVENTORY": False, "GEOREP_MONITOR_INTERVAL": False,
    "GEOREP_SNAPSHOT_EVERY": False, "GEOREP_CHECKPOINT_STALL_AFTER": False, "GEOREP_CHECKPOINT_TOUCH": False, "GEOREP_GLUSTER": False, "GEOREP_GLUSTER_TIMEOUT": False,
    "GEOREP_GLUSTER_SUSPECT_AFTER": False,
    "GEOREP_WORKER_CONCURRENCY": False, "GEOREP_HEARTBEAT_INTERVAL": False,
    "GEOREP_WEBHOOK_TOKENS": True, "GEOREP_AMQP_ADMIN_USERS": False, "GEOREP_PERSISTER_BATCH": False,
    "GEOREP_PERSISTER_BATCH_DELAY_MS": False, "GEOREP_PERSISTER_WRITERS": False, "GEOREP_SCHEMAS": False, "GEOREP_API_TOKENS": True,
}
CONFIG_SETTING = "GEOREP_CONFIG"

# Exported metrics and their labels (Prometheus names). Histograms export _bucket (with le),
# _sum and _count.
_BASE_METRICS = {
    "georep_commands_total": {"action", "outcome"},
    "georep_gluster_cli_seconds": {"operation", "transport"},
    "georep_command_overhead_seconds": set(),
    "georep_events_published_total": {"type"},
    "georep_reconnects_total": {"target", "role"},
    "georep_persister_batch_size": set(),
    "georep_persister_lag_seconds": set(),
    "georep_dead_lettered_total": {"code", "role"},
    "georep_sessions": {"status"},
    "georep_worker_shards": set(),
    "georep_cluster_wedged": {"cluster"},
    "georep_cluster_wedges_total": {"cluster"},
    "georep_dropped_total": {"reason", "role"},
    "georep_http_request_seconds": {"route", "status"},
}
HISTOGRAMS = {"georep_gluster_cli_seconds", "georep_command_overhead_seconds", "georep_persister_batch_size", "georep_http_request_seconds"}
METRICS = {}
for _name, _labels in _BASE_METRICS.items():
    if _name in HISTOGRAMS:
        METRICS[_name + "_bucket"] = _labels | {"le"}
        METRICS[_name + "_sum"] = _labels
        METRICS[_name + "_count"] = _labels
    else:
        METRICS[_name] = _labels
# Values an equality matcher may name.
LABEL_VALUES = {
    ("georep_commands_total", "outcome"): {"succeeded", "failed", "rejected", "duplicate", "retried"},
    ("georep_sessions", "status"): {"INITIALIZING", "NOTSTARTED", "ACTIVE", "PASSIVE", "STOPPED",
                                    "PAUSED", "PARTIAL_FAULTY", "FAULTY", "UNKNOWN"},
    ("georep_reconnects_total", "target"): {"amqp", "postgres"},
}
# Labels Prometheus or service discovery attach to every series of a target.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "service", "endpoint", "node"}

# The port each long-running process serves HTTP on in Kubernetes, by the container's subcommand.
K8S_PORTS = {"worker": 9810, "persister": 9820, "api": 8080}

# Objects the manifests refer to but do not define: created per installation, see
# ops/k8s/worker-deployment.yaml. Their keys cannot be checked.
EXTERNAL = {
    ("ConfigMap", "georep-inventory"),  # the worker's inventory.json
    ("Secret", "georep-ssh"),           # the worker's ssh key and known_hosts
}

SEVERITIES = {"critical", "warning", "info"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")

problems = []
checked = set()


def rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def problem(path, message):
    problems.append(f"{rel(path)}: {message}")


def read(path):
    checked.add(Path(path).resolve())
    return Path(path).read_text(encoding="utf-8")


def load_yaml(path):
    """The documents of a YAML file (empty ones dropped), or None if it does not parse."""
    try:
        return [d for d in yaml.safe_load_all(read(path)) if d is not None]
    except yaml.YAMLError as error:
        problem(path, f"does not parse as YAML: {error}")
        return None


def dig(obj, *keys):
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# --- RabbitMQ ------------------------------------------------------------------------------------

def check_definitions():
    """The shard queues of the definitions (bound from the consistent-hash commands exchange)."""
    path = OPS / "rabbitmq" / "definitions.json"
    if not path.exists():
        problem(path, "missing")
        return set()
    try:
        definitions = json.loads(read(path))
    except json.JSONDecodeError as error:
        problem(path, f"does not parse as JSON: {error}")
        return set()
    queues = {q.get("name"): q for q in definitions.get("queues", []) if isinstance(q, dict)}
    hash_exchanges = {e.get("name") for e in definitions.get("exchanges", [])
                      if isinstance(e, dict) and e.get("type") == "x-consistent-hash"}
    shards = {b.get("destination") for b in definitions.get("bindings", [])
              if isinstance(b, dict) and b.get("source") in hash_exchanges and b.get("destination_type") == "queue"}
    if not shards:
        problem(path, "no queue is bound from an x-consistent-hash exchange: no command shards")
    for name in sorted(shards):
        if name not in queues:
            problem(path, f"binding to undeclared queue {name}")
        elif not dig(queues[name], "arguments", "x-single-active-consumer"):
            problem(path, f"shard queue {name} is not single-active-consumer")
    return shards & set(queues)


# --- Kubernetes ----------------------------------------------------------------------------------

def pod_spec(doc):
    kind = doc.get("kind")
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return dig(doc, "spec", "template", "spec")
    return None


def subcommand_of(container):
    argv = list(container.get("command") or []) + list(container.get("args") or [])
    if argv and argv[0] == BINARY:
        argv = argv[1:]
    return argv[0] if argv else None


def resolve_port(port, container):
    """A probe's or Service's port (number or name) as a number of the container, or None."""
    for p in container.get("ports") or []:
        if port == p.get("containerPort") or (isinstance(port, str) and port == p.get("name")):
            return p.get("containerPort")
    return None


def check_k8s(shard_queues):
    k8s = OPS / "k8s"
    files = sorted(p for p in k8s.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if not files:
        problem(k8s, "no manifests")
        return
    docs = []  # (path, doc)
    kustomization = None
    for path in files:
        loaded = load_yaml(path)
        if loaded is None:
            continue
        if path.name == "kustomization.yaml":
            kustomization = (path, loaded[0] if loaded else {})
            continue
        for doc in loaded:
            if not isinstance(doc, dict):
                problem(path, "a document is not a mapping")
                continue
            docs.append((path, doc))

    objects = {}  # (kind, name) -> (path, doc)
    for path, doc in docs:
        kind, name = doc.get("kind"), dig(doc, "metadata", "name")
        for field, value in (("apiVersion", doc.get("apiVersion")), ("kind", kind), ("metadata.name", name)):
            if not value:
                problem(path, f"{kind or 'document'} without {field}")
        if kind == "Namespace":
            if name != NAMESPACE:
                problem(path, f"Namespace is {name}, expected {NAMESPACE}")
        elif dig(doc, "metadata", "namespace") != NAMESPACE:
            problem(path, f"{kind}/{name} is not in namespace {NAMESPACE}")
        if (kind, name) in objects:
            problem(path, f"{kind}/{name} defined twice")
        objects[(kind, name)] = (path, doc)

    def keys_of(kind, name):
        doc = objects.get((kind, name), (None, {}))[1]
        keys = set((doc.get("data") or {}).keys())
        if kind == "Secret":
            keys |= set((doc.get("stringData") or {}).keys())
        return keys

    def check_ref(path, where, kind, name, key=None):
        if (kind, name) in EXTERNAL:
            return
        if (kind, name) not in objects:
            problem(path, f"{where} refers to {kind} {name}, which no manifest defines (nor the external whitelist)")
        elif key is not None and key not in keys_of(kind, name):
            problem(path, f"{where} refers to key {key} of {kind} {name}, which it does not have")

    # Settings objects: known names; secrets only in Secrets.
    for (kind, name), (path, doc) in objects.items():
        if kind not in ("ConfigMap", "Secret"):
            continue
        for key in keys_of(kind, name):
            if not key.startswith("GEOREP_"):
                continue
            if key not in SETTINGS:
                problem(path, f"{kind} {name}: {key} is not a georep setting")
            elif kind == "ConfigMap" and SETTINGS[key]:
                problem(path, f"ConfigMap {name} holds the secret {key}: it belongs in a Secret")
            elif kind == "Secret" and not SETTINGS[key]:
                problem(path, f"Secret {name} holds {key}, which is not a secret: put it in the ConfigMap")

    deployments = {name: (path, doc) for (kind, name), (path, doc) in objects.items() if kind == "Deployment"}

    for (kind, name), (path, doc) in objects.items():
        spec = pod_spec(doc)
        if spec is None:
            continue
        where = f"{kind}/{name}"
        if kind == "Deployment":
            selector = dig(doc, "spec", "selector", "matchLabels") or {}
            labels = dig(doc, "spec", "template", "metadata", "labels") or {}
            if not selector:
                problem(path, f"{where}: no spec.selector.matchLabels")
            for k, v in selector.items():
                if labels.get(k) != v:
                    problem(path, f"{where}: selector {k}={v} does not match the template labels")
        if dig(spec, "securityContext", "runAsNonRoot") is not True:
            problem(path, f"{where}: pod securityContext.runAsNonRoot is not true")
        volumes = {}
        for volume in spec.get("volumes") or []:
            volumes[volume.get("name")] = volume
            if "configMap" in volume:
                check_ref(path, f"{where} volume {volume.get('name')}", "ConfigMap", dig(volume, "configMap", "name"))
            if "secret" in volume:
                check_ref(path, f"{where} volume {volume.get('name')}", "Secret", dig(volume, "secret", "secretName"))
        containers = spec.get("containers") or []
        if not containers:
            problem(path, f"{where}: no containers")
        for is_init, container in [(True, c) for c in spec.get("initContainers") or []] + [(False, c) for c in containers]:
            cwhere = f"{where} container {container.get('name')}"
            if not container.get("image"):
                problem(path, f"{cwhere}: no image")
            sub = subcommand_of(container)
            if (container.get("command") or [None])[0] != BINARY:
                problem(path, f"{cwhere}: command does not start with {BINARY}")
            if sub not in SUBCOMMANDS:
                problem(path, f"{cwhere}: subcommand {sub!r} does not exist")
            sc = container.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("readOnlyRootFilesystem") is not True:
                problem(path, f"{cwhere}: needs allowPrivilegeEscalation: false and readOnlyRootFilesystem: true")
            for mount in container.get("volumeMounts") or []:
                if mount.get("name") not in volumes:
                    problem(path, f"{cwhere}: mounts undefined volume {mount.get('name')}")
            for source in container.get("envFrom") or []:
                if "configMapRef" in source:
                    check_ref(path, f"{cwhere} envFrom", "ConfigMap", dig(source, "configMapRef", "name"))
                if "secretRef" in source:
                    check_ref(path, f"{cwhere} envFrom", "Secret", dig(source, "secretRef", "name"))
            env = {}
            for var in container.get("env") or []:
                vname = var.get("name", "")
                env[vname] = var
                if vname.startswith("GEOREP_") and vname not in SETTINGS:
                    problem(path, f"{cwhere}: {vname} is not a georep setting")
                if SETTINGS.get(vname) and dig(var, "valueFrom", "secretKeyRef") is None:
                    problem(path, f"{cwhere}: the secret {vname} must come from a secretKeyRef")
                ref = dig(var, "valueFrom", "secretKeyRef")
                if ref:
                    check_ref(path, f"{cwhere} {vname}", "Secret", ref.get("name"), ref.get("key"))
                ref = dig(var, "valueFrom", "configMapKeyRef")
                if ref:
                    check_ref(path, f"{cwhere} {vname}", "ConfigMap", ref.get("name"), ref.get("key"))
            if is_init or kind != "Deployment":
                continue
            # A long-running process: its HTTP port, probes, resources.
            ports = container.get("ports") or []
            if not ports:
                problem(path, f"{cwhere}: no ports")
            expected = K8S_PORTS.get(sub)
            if expected is not None and expected not in [p.get("containerPort") for p in ports]:
                problem(path, f"{cwhere}: georep {sub} serves on {expected}, not among its ports")
            http = dig(env.get("GEOREP_HTTP") or {}, "value")
            if not http:
                problem(path, f"{cwhere}: no GEOREP_HTTP (the default listens on 127.0.0.1, out of the probes' reach)")
            else:
                host, _, port = http.rpartition(":")
                if host in ("127.0.0.1", "localhost", "::1", "[::1]") or not port.isdigit():
                    problem(path, f"{cwhere}: GEOREP_HTTP={http} is not reachable from outside the container")
                elif expected is not None and int(port) != expected:
                    problem(path, f"{cwhere}: GEOREP_HTTP port {port} is not {expected}")
            for probe, route in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
                get = dig(container, probe, "httpGet")
                if not get:
                    problem(path, f"{cwhere}: no {probe} httpGet")
                    continue
                if get.get("path") != route:
                    problem(path, f"{cwhere}: {probe} path is {get.get('path')}, expected {route}")
                number = resolve_port(get.get("port"), container)
                if number is None or (expected is not None and number != expected):
                    problem(path, f"{cwhere}: {probe} port {get.get('port')} is not the HTTP port {expected}")
            if not dig(container, "resources", "requests") or not dig(container, "resources", "limits"):
                problem(path, f"{cwhere}: no resources requests and limits")

    # Services select a Deployment and reach one of its ports.
    for (kind, name), (path, doc) in objects.items():
        if kind != "Service":
            continue
        selector = dig(doc, "spec", "selector") or {}
        targets = [(dname, d) for dname, (_, d) in deployments.items()
                   if selector and all((dig(d, "spec", "template", "metadata", "labels") or {}).get(k) == v
                                       for k, v in selector.items())]
        if not targets:
            problem(path, f"Service/{name} selects no Deployment")
            continue
        for port in dig(doc, "spec", "ports") or []:
            target = port.get("targetPort", port.get("port"))
            for dname, d in targets:
                containers = dig(d, "spec", "template", "spec", "containers") or []
                if not any(resolve_port(target, c) for c in containers):
                    problem(path, f"Service/{name} targetPort {target} is no port of Deployment/{dname}")

    # KEDA.
    for (kind, name), (path, doc) in objects.items():
        if kind == "TriggerAuthentication":
            for ref in dig(doc, "spec", "secretTargetRef") or []:
                check_ref(path, f"TriggerAuthentication/{name} {ref.get('parameter')}", "Secret", ref.get("name"), ref.get("key"))
        if kind != "ScaledObject":
            continue
        target = dig(doc, "spec", "scaleTargetRef") or {}
        tkind = target.get("kind", "Deployment")
        tname = target.get("name")
        if tkind != "Deployment" or tname not in deployments:
            problem(path, f"ScaledObject/{name} scales {tkind}/{tname}, which is not a Deployment of the manifests")
        else:
            containers = dig(deployments[tname][1], "spec", "template", "spec", "containers") or []
            if not any(subcommand_of(c) == "worker" for c in containers):
                problem(path, f"ScaledObject/{name} scales Deployment/{tname}, which does not run georep worker")
        lo, hi = dig(doc, "spec", "minReplicaCount"), dig(doc, "spec", "maxReplicaCount")
        if not isinstance(lo, int) or not isinstance(hi, int) or not 1 <= lo <= hi:
            problem(path, f"ScaledObject/{name}: needs 1 <= minReplicaCount <= maxReplicaCount")
        seen = []
        for trigger in dig(doc, "spec", "triggers") or []:
            meta = trigger.get("metadata") or {}
            queue = meta.get("queueName")
            if trigger.get("type") != "rabbitmq":
                problem(path, f"ScaledObject/{name}: trigger of type {trigger.get('type')}, expected rabbitmq")
                continue
            if queue not in shard_queues:
                problem(path, f"ScaledObject/{name}: trigger queue {queue} is no shard queue of ops/rabbitmq/definitions.json")
            seen.append(queue)
            if meta.get("mode") not in ("QueueLength", "MessageRate"):
                problem(path, f"ScaledObject/{name}: trigger {queue} mode {meta.get('mode')}")
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", str(meta.get("value", ""))):
                problem(path, f"ScaledObject/{name}: trigger {queue} value {meta.get('value')!r} is not a number")
            auth = trigger.get("authenticationRef") or {}
            akind = auth.get("kind", "TriggerAuthentication")
            if (akind, auth.get("name")) not in objects:
                problem(path, f"ScaledObject/{name}: trigger {queue} uses {akind} {auth.get('name')}, which no manifest defines")
        if len(seen) != len(set(seen)):
            problem(path, f"ScaledObject/{name}: a shard queue has two triggers")
        for queue in sorted(shard_queues - set(seen)):
            problem(path, f"ScaledObject/{name}: no trigger for shard queue {queue}")
        shards = None
        for (k, _), (_, d) in objects.items():
            if k == "ConfigMap" and "GEOREP_SHARDS" in (d.get("data") or {}):
                shards = str(d["data"]["GEOREP_SHARDS"])
        if shards is not None and shards != str(len(shard_queues)):
            problem(path, f"GEOREP_SHARDS is {shards} in the ConfigMap but the definitions have {len(shard_queues)} shard queues")

    # kustomization lists every manifest, and nothing else.
    if kustomization is None:
        problem(k8s / "kustomization.yaml", "missing")
    else:
        path, doc = kustomization
        listed = list((doc or {}).get("resources") or [])
        manifests = {p.name for p in files if p.name != "kustomization.yaml"}
        for name in sorted(manifests - set(listed)):
            problem(path, f"does not list {name}")
        for name in listed:
            if name not in manifests:
                problem(path, f"lists {name}, which is not a manifest of ops/k8s")
        if len(listed) != len(set(listed)):
            problem(path, "lists a file twice")


# --- Prometheus ----------------------------------------------------------------------------------

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
IDENT = re.compile(r"(?<![\w:.\"])([a-zA-Z_:][a-zA-Z0-9_:]*)")
SELECTOR = re.compile(r"\b(georep_[a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def check_expr(path, alert, expr):
    bare = STRING.sub('""', expr)
    names = {m for m in IDENT.findall(bare) if m.startswith("georep_")}
    for name in sorted(names - METRICS.keys()):
        problem(path, f"{alert}: {name} is not an exported metric")
    for metric, body in SELECTOR.findall(expr):
        if metric not in METRICS:
            continue
        for label, op, quoted in MATCHER.findall(body):
            if label not in METRICS[metric] | TARGET_LABELS:
                problem(path, f"{alert}: {metric} has no label {label}")
            allowed = LABEL_VALUES.get((metric.removesuffix("_bucket"), label))
            value = json.loads(quoted) if op in ("=", "!=") else None
            if allowed and value is not None and value not in allowed:
                problem(path, f"{alert}: {metric}{{{label}{op}{quoted}}} names a value it never has")
    metrics = {m for m in IDENT.findall(bare) if m.startswith(("georep_", "rabbitmq_")) or m == "up"}
    if metrics and metrics <= METRICS.keys():
        labels = set().union(*(METRICS[m] for m in metrics)) | TARGET_LABELS
        for group in GROUPING.findall(bare):
            for label in (l.strip() for l in group.split(",") if l.strip()):
                if label not in labels:
                    problem(path, f"{alert}: groups by {label}, which {', '.join(sorted(metrics))} lack")


def check_prometheus():
    directory = OPS / "prometheus"
    files = sorted(p for p in directory.glob("*") if p.suffix in (".yml", ".yaml"))
    if not files:
        problem(directory, "no files")
    alerts = set()
    rule_files = 0
    for path in files:
        loaded = load_yaml(path)
        if not loaded:
            continue
        doc = loaded[0]
        if not isinstance(doc, dict):
            problem(path, "not a mapping")
            continue
        if "groups" in doc:
            rule_files += 1
            for group in doc.get("groups") or []:
                if not group.get("name"):
                    problem(path, "a group without a name")
                rules = group.get("rules") or []
                if not rules:
                    problem(path, f"group {group.get('name')} has no rules")
                for rule in rules:
                    alert = rule.get("alert")
                    if not alert:
                        problem(path, f"group {group.get('name')}: a rule without alert")
                        alert = "?"
                    elif alert in alerts:
                        problem(path, f"alert {alert} defined twice")
                    alerts.add(alert)
                    expr = rule.get("expr")
                    if not isinstance(expr, str) or not expr.strip():
                        problem(path, f"{alert}: no expr")
                    else:
                        check_expr(path, alert, expr)
                    if "for" in rule and not DURATION.match(str(rule["for"])):
                        problem(path, f"{alert}: for {rule['for']!r} is not a duration")
                    severity = dig(rule, "labels", "severity")
                    if severity not in SEVERITIES:
                        problem(path, f"{alert}: labels.severity {severity!r} is not one of {sorted(SEVERITIES)}")
                    for annotation in ("summary", "description", "runbook"):
                        if not dig(rule, "annotations", annotation):
                            problem(path, f"{alert}: no annotations.{annotation}")
        elif "scrape_configs" in doc:
            for name in doc.get("rule_files") or []:
                if not (path.parent / name).exists():
                    problem(path, f"rule file {name} does not exist")
            jobs = [c.get("job_name") for c in doc.get("scrape_configs") or []]
            if len(jobs) != len(set(jobs)):
                problem(path, "a job_name appears twice")
            for job in ("georep-worker", "georep-persister", "georep-api"):
                if job not in jobs:
                    problem(path, f"no scrape job {job}")
            if not any(":15692" in str(t) for c in doc.get("scrape_configs") or []
                       for s in c.get("static_configs") or [] for t in s.get("targets") or []):
                problem(path, "no scrape of RabbitMQ's rabbitmq_prometheus endpoint (port 15692)")
        else:
            problem(path, "neither a rule file (groups) nor a Prometheus configuration (scrape_configs)")
    if not rule_files:
        problem(directory, "no rule file")


# --- Grafana -------------------------------------------------------------------------------------

# What the dashboard must show, each by at least one of these series.
DASHBOARD_COVERS = {
    "sessions by status": {"georep_sessions"},
    "commands by action and outcome": {"georep_commands_total"},
    "gluster call latency": {"georep_gluster_cli_seconds_bucket"},
    "worker overhead": {"georep_command_overhead_seconds_bucket"},
    "persister lag": {"georep_persister_lag_seconds"},
    "persister batch size": {"georep_persister_batch_size_sum", "georep_persister_batch_size_count",
                             "georep_persister_batch_size_bucket"},
    "dead letters": {"georep_dead_lettered_total"},
    "reconnects": {"georep_reconnects_total"},
    "wedged glusterd": {"georep_cluster_wedged"},
}


def check_grafana():
    directory = OPS / "grafana"
    dashboards = sorted((directory / "dashboards").glob("*.json"))
    if not dashboards:
        problem(directory, "no dashboards/*.json")
    used = set()
    for path in dashboards:
        try:
            doc = json.loads(read(path))
        except json.JSONDecodeError as error:
            problem(path, f"does not parse as JSON: {error}")
            continue
        for key in ("uid", "title", "panels"):
            if not doc.get(key):
                problem(path, f"no {key}")
        ids = [p.get("id") for p in doc.get("panels") or []]
        if len(ids) != len(set(ids)):
            problem(path, "a panel id appears twice")
        for panel in doc.get("panels") or []:
            title = panel.get("title") or f"panel {panel.get('id')}"
            targets = panel.get("targets") or []
            if not targets:
                problem(path, f"{title}: no targets")
            for target in targets:
                expr = target.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    problem(path, f"{title}: a target without expr")
                    continue
                # Grafana's variables are not PromQL; $__rate_interval stands for a duration.
                check_expr(path, title, re.sub(r"\$__\w+", "5m", expr))
                used |= {m for m in IDENT.findall(STRING.sub('""', expr)) if m.startswith("georep_")}
    if dashboards:
        for what, series in DASHBOARD_COVERS.items():
            if not used & series:
                problem(directory / "dashboards", f"no panel shows {what} ({' or '.join(sorted(series))})")
    for path in sorted((directory / "provisioning").rglob("*.yaml")):
        loaded = load_yaml(path)
        if not loaded or not isinstance(loaded[0], dict):
            problem(path, "not a provisioning file")
            continue
        doc = loaded[0]
        if doc.get("apiVersion") != 1:
            problem(path, "apiVersion is not 1")
        if "providers" in doc:
            for provider in doc["providers"] or []:
                if provider.get("type") != "file" or not dig(provider, "options", "path"):
                    problem(path, f"provider {provider.get('name')}: not a file provider with options.path")
        elif "datasources" in doc:
            if not any(d.get("type") == "prometheus" for d in doc["datasources"] or []):
                problem(path, "no prometheus data source")
        else:
            problem(path, "neither dashboard providers nor datasources")


# --- systemd -------------------------------------------------------------------------------------

def parse_unit(path):
    """{section: {key: [values]}}; systemd allows a key more than once."""
    sections, current, pending = {}, None, ""
    for number, raw in enumerate(read(path).splitlines(), 1):
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            if current in sections:
                problem(path, f"line {number}: section [{current}] twice")
            sections.setdefault(current, {})
            continue
        if current is None or "=" not in line:
            problem(path, f"line {number}: not a key=value inside a section: {raw.strip()}")
            continue
        key, _, value = line.partition("=")
        sections[current].setdefault(key.strip(), []).append(value.strip())
    return sections


def check_systemd():
    directory = OPS / "systemd"
    units = {p.name: p for p in sorted(directory.glob("*.service"))}
    for name in ("georep-worker@.service", "georep-persister.service", "georep-api.service", "georep-migrate.service"):
        if name not in units:
            problem(directory / name, "missing")
    for name, path in units.items():
        sections = parse_unit(path)
        unit, service, install = (sections.get(s) for s in ("Unit", "Service", "Install"))
        for extra in sorted(set(sections) - {"Unit", "Service", "Install"}):
            problem(path, f"unexpected section [{extra}]")
        if unit is None or service is None:
            problem(path, "needs [Unit] and [Service]")
            continue

        def last(section, key):
            values = (section or {}).get(key)
            return values[-1] if values else None

        oneshot = last(service, "Type") == "oneshot"
        if install is None and not oneshot:
            problem(path, "a long-running unit needs [Install]")
        if not last(unit, "Description"):
            problem(path, "no Description=")
        execs = service.get("ExecStart") or []
        if len(execs) != 1:
            problem(path, f"needs exactly one ExecStart=, has {len(execs)}")
            continue
        argv = execs[0].lstrip("@-:+!").split()
        if not argv or argv[0] != BINARY:
            problem(path, f"ExecStart= does not start with {BINARY}")
            continue
        sub = argv[1] if len(argv) > 1 else None
        if sub not in SUBCOMMANDS:
            problem(path, f"ExecStart= subcommand {sub!r} does not exist")
        expected_sub = name.removeprefix("georep-").split("@")[0].removesuffix(".service")
        if sub != expected_sub:
            problem(path, f"runs georep {sub}, but the unit is named for {expected_sub}")
        if ENV_FILE not in [v.lstrip("-") for v in service.get("EnvironmentFile") or []]:
            problem(path, f"no EnvironmentFile={ENV_FILE}")
        for value in service.get("Environment") or []:
            for assignment in value.split():
                var = assignment.strip('"').partition("=")[0]
                if var.startswith("GEOREP_") and var not in SETTINGS:
                    problem(path, f"Environment= sets {var}, which is not a georep setting")
        required = {"NoNewPrivileges": {"yes"}, "ProtectSystem": {"strict"}, "ProtectHome": {"yes", "read-only"},
                    "PrivateTmp": {"yes"}, "ProtectKernelTunables": {"yes"}, "ProtectKernelModules": {"yes"},
                    "ProtectControlGroups": {"yes"}, "LockPersonality": {"yes"}, "MemoryDenyWriteExecute": {"yes"},
                    "SystemCallArchitectures": {"native"}}
        for key, allowed in required.items():
            if last(service, key) not in allowed:
                problem(path, f"{key}= should be {' or '.join(sorted(allowed))}, is {last(service, key)}")
        families = set((last(service, "RestrictAddressFamilies") or "").split())
        if not families or not families <= {"AF_INET", "AF_INET6", "AF_UNIX"}:
            problem(path, f"RestrictAddressFamilies= should be within AF_INET AF_INET6 AF_UNIX, is {sorted(families)}")
        if not oneshot:
            if last(service, "Restart") not in ("always", "on-failure"):
                problem(path, "Restart= should be always or on-failure")
            if not last(service, "RestartSec"):
                problem(path, "no RestartSec=")
            if not last(unit, "StartLimitIntervalSec") or not last(unit, "StartLimitBurst"):
                problem(path, "no StartLimitIntervalSec=/StartLimitBurst= in [Unit]")
        if sub == "worker":
            if "@" not in name:
                problem(path, "the worker unit should be a template (georep-worker@.service)")
            http = " ".join(execs + (service.get("Environment") or []))
            if "981%i" not in http:
                problem(path, "the instance does not choose the HTTP port (127.0.0.1:981%i)")
        else:
            if last(service, "User") != "georep":
                problem(path, "should run as User=georep")
            if last(service, "CapabilityBoundingSet") != "":
                problem(path, "CapabilityBoundingSet= should be empty")
        if sub in ("persister", "api"):
            for key in ("Requires", "After"):
                if "georep-migrate.service" not in " ".join(unit.get(key) or []).split():
                    problem(path, f"{key}= should name georep-migrate.service")
        if sub == "migrate":
            if not oneshot:
                problem(path, "migrations should be Type=oneshot")
            before = " ".join(unit.get("Before") or []).split()
            for other in ("georep-persister.service", "georep-api.service"):
                if other not in before:
                    problem(path, f"Before= should name {other}")

    example = directory / "georep.env.example"
    if not example.exists():
        problem(example, "missing")
        return
    listed, previous = [], ""
    for raw in read(example).splitlines():
        line = raw.strip()
        match = re.match(r"^#?\s*(GEOREP_[A-Z0-9_]+)=", line)
        if match:
            listed.append(match.group(1))
            if not previous.startswith("#") or re.match(r"^#?\s*GEOREP_[A-Z0-9_]+=", previous):
                problem(example, f"{match.group(1)} has no comment of its own above it")
        previous = line
    for name in sorted(set(SETTINGS) - set(listed)):
        problem(example, f"does not list {name}")
    for name in sorted(set(listed) - set(SETTINGS)):
        problem(example, f"lists {name}, which is not a setting")
    for name in sorted({n for n in listed if listed.count(n) > 1}):
        problem(example, f"lists {name} twice")


# --- the sources the lists above come from, when present -----------------------------------------

def check_sources():
    settings = ROOT / "Sources" / "georep" / "Settings.swift"
    if settings.exists():
        found = set(re.findall(r'case\s+\w+\s*=\s*"(GEOREP_[A-Z0-9_]+)"', read(settings)))
        expected = set(SETTINGS) | {CONFIG_SETTING}
        for name in sorted(found ^ expected):
            problem(OPS / "check-artifacts.py", f"SETTINGS and {rel(settings)} disagree on {name}")
    metrics = ROOT / "Sources" / "Observability" / "GeoRepMetrics.swift"
    if metrics.exists():
        found = set(re.findall(r'label:\s*"(georep_[a-z0-9_]+)"', read(metrics)))
        for name in sorted(found ^ set(_BASE_METRICS)):
            problem(OPS / "check-artifacts.py", f"the metric list and {rel(metrics)} disagree on {name}")
    commands = ROOT / "Sources" / "georep"
    if commands.is_dir():
        found = set()
        for swift in sorted(commands.glob("*.swift")):
            found |= set(re.findall(r'commandName:\s*"([a-z0-9.-]+)"', read(swift)))
        found.discard("georep")
        if found:
            for name in sorted(found ^ SUBCOMMANDS):
                problem(OPS / "check-artifacts.py", f"SUBCOMMANDS and {rel(commands)} disagree on {name}")


def main():
    shard_queues = check_definitions()
    check_k8s(shard_queues)
    check_prometheus()
    check_grafana()
    check_systemd()
    check_sources()
    for line in problems:
        print(line)
    print(f"{len(checked)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
