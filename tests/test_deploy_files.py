"""The deployment files (docker-compose.yml, deploy/) checked against the code.

There is no Docker engine or Kubernetes cluster in CI, so this is the only check that the
compose file, the Dockerfile and the manifests still fit the project: every HJEMFLYT_* name
is a field of `Settings`, every command names a real app factory or CLI subcommand, the
settings each container gets pass the production check, and the wiring (dependencies,
health checks, NATS cluster, gateway upstreams) is complete. Fast and offline: files are
parsed, app modules are located and read, never started.
"""

from __future__ import annotations

import argparse
import ast
import base64
import binascii
import importlib
import importlib.util
import os
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from packaging.specifiers import SpecifierSet

from hjemflyt.shared.platform.settings import (
    DEV_PII_INDEX_KEY,
    DEV_PII_KEY,
    SERVICES,
    Environment,
    Settings,
)

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
CADDYFILE = DEPLOY / "Caddyfile"
DOCKERFILE = DEPLOY / "Dockerfile"
KUBERNETES = DEPLOY / "kubernetes"
NATS_NODES = ("nats-1", "nats-2", "nats-3")
SERVICE_PORT = 8000
ALL_INTERFACES = "0.0.0.0"  # noqa: S104  (inside a container, that is the point)

# Every name Settings reads from the environment.
SETTINGS_VARS = frozenset(f"HJEMFLYT_{name.upper()}" for name in Settings.model_fields)
HJEMFLYT_NAME = re.compile(r"\bHJEMFLYT_[A-Z0-9_]+")

# What an operator would put in .env for `docker compose up` (test values, not secrets).
TEST_KEY = base64.urlsafe_b64encode(b"test-only-pii-key-is-32-bytes!!!").decode()
TEST_INDEX_KEY = base64.urlsafe_b64encode(b"test-only-index-key-is-32-bytes!").decode()
TEST_BUS_KEY = base64.urlsafe_b64encode(b"test-only-bus-key-is-32-bytes!!!").decode()
# The services that publish or read personal data on the bus, and only they, get its key.
BUS_KEY_HOLDERS = ("assessment", "notifications")
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "test-password",
    "HJEMFLYT_PII_KEY": TEST_KEY,
    "HJEMFLYT_PII_INDEX_KEY": TEST_INDEX_KEY,
    "HJEMFLYT_BUS_PII_KEY": TEST_BUS_KEY,
    "HJEMFLYT_JWT_ISSUER": "https://login.test.invalid/realms/hjemflyt",
    "HJEMFLYT_JWT_JWKS_URL": "https://login.test.invalid/realms/hjemflyt/certs",
}
# Compose must refuse to start without each of these.
REQUIRED_FROM_OPERATOR = ("POSTGRES_PASSWORD", "HJEMFLYT_PII_KEY", "HJEMFLYT_PII_INDEX_KEY")
SECRET_SETTINGS = ("HJEMFLYT_DATABASE_URL", "HJEMFLYT_PII_KEY", "HJEMFLYT_PII_INDEX_KEY")


# --------------------------------------------------------------------------------------------
# Helpers: compose interpolation, commands, NATS configuration, .dockerignore.


class MissingVariable(Exception):
    pass


_INTERPOLATION = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution for the forms this project uses."""

    def substitute(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        expr = m["braced"] if m["braced"] is not None else m["named"]
        name_match = _VARIABLE.match(expr)
        assert name_match, f"bad interpolation {m.group()!r}"
        name, rest = name_match.group(), expr[name_match.end() :]
        if rest.startswith((":?", "?")):
            unset = env.get(name) is None or (rest.startswith(":?") and env[name] == "")
            if unset:
                raise MissingVariable(name)
            return env[name]
        if rest.startswith(":-"):
            return env.get(name) or rest[2:]
        if rest.startswith("-"):
            return env.get(name, rest[1:])
        assert rest == "", f"unsupported interpolation {m.group()!r}"
        return env.get(name, "")

    return _INTERPOLATION.sub(substitute, value)


def strings(node: Any) -> Iterator[str]:
    """Every string (keys and values) in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def argv(command: str | list[Any]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def factory_target(args: list[str]) -> str | None:
    """The `module:attr` uvicorn imports, when the command runs uvicorn with --factory."""
    if not args or Path(args[0]).name != "uvicorn" or "--factory" not in args:
        return None
    targets = [a for a in args[1:] if not a.startswith("-") and re.fullmatch(r"[\w.]+:\w+", a)]
    assert len(targets) == 1, f"one app target expected in {args}"
    return targets[0]


def uvicorn_params(args: list[str]) -> dict[str, Any]:
    """The command line as the installed `uvicorn` console script parses it (not run)."""
    (entry_point,) = entry_points(group="console_scripts", name="uvicorn")
    command = entry_point.load()
    assert args[0] == entry_point.name, f"not a uvicorn command: {args}"
    try:
        context = command.make_context(args[0], args[1:])
    except click.ClickException as exc:
        pytest.fail(f"uvicorn refuses {args}: {exc.format_message()}")
    return dict(context.params)


def is_key_material(value: str) -> bool:
    """A token that decodes to 32 bytes: a usable AES/HMAC key, which must never be committed."""
    for token in re.findall(r"[A-Za-z0-9_\-+/]{40,}={0,2}", value):
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            try:
                if len(decode(token + "=" * (-len(token) % 4))) == 32:
                    return True
            except (binascii.Error, ValueError):
                continue
    return False


def assert_no_key_material(tree: Any, where: str) -> None:
    for text in strings(tree):
        assert DEV_PII_KEY not in text, f"{where}: development key"
        assert DEV_PII_INDEX_KEY not in text, f"{where}: development key"
        assert not is_key_material(text), f"{where}: literal key material in {text[:20]!r}..."


def nats_conf(text: str) -> dict[str, Any]:
    """The parts of a NATS server configuration these files use."""
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())

    def block(name: str) -> str | None:
        m = re.search(rf"^\s*{name}\s*[:=]?\s*\{{", text, re.MULTILINE)
        if m is None:
            return None
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        return text[m.end() : i - 1]

    def scalar(source: str, key: str) -> str | None:
        m = re.search(rf"^\s*{key}\s*[:=]\s*(\S+)", source, re.MULTILINE)
        return m.group(1).strip("\"'") if m else None

    top = re.sub(r"\{[^{}]*(\{[^{}]*\}[^{}]*)*\}", "{}", text)  # top level only
    cluster = block("cluster")
    jetstream = block("jetstream")
    routes_src = re.search(r"routes\s*[:=]?\s*\[(.*?)\]", cluster or "", re.DOTALL)
    return {
        "server_name": scalar(top, "server_name"),
        "listen": scalar(top, "listen"),
        "http": scalar(top, "http"),
        "jetstream": jetstream,
        "store_dir": scalar(jetstream or "", "store_dir"),
        "cluster_name": scalar(cluster or "", "name"),
        "cluster_listen": scalar(cluster or "", "listen"),
        "routes": re.findall(r"nats(?:-route)?://([^\s,\]\"']+)", routes_src.group(1)) if routes_src else [],
    }


def port_of(address: str | None) -> int:
    assert address, "no listen address"
    return int(address.rsplit(":", 1)[1])


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + r"\Z")

    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        if any(regex(pattern).match(c) for c in candidates):
            excluded = not negate
    return excluded


def create_app_is_a_factory(module_name: str) -> None:
    """The module uvicorn imports defines `create_app` callable with no arguments.

    Read from the module's source (found by importlib) rather than imported: importing the
    four services costs seconds. When the module is already imported (a full test run), the
    real object is checked too.
    """
    spec = importlib.util.find_spec(module_name)
    assert spec is not None, f"{module_name} is not importable"
    assert spec.origin, f"{module_name} has no source"
    tree = ast.parse(Path(spec.origin).read_text(), spec.origin)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "create_app"]
    assert defs, f"{module_name} defines no top-level create_app"
    arguments = defs[0].args
    required = len(arguments.posonlyargs) + len(arguments.args) - len(arguments.defaults)
    required += sum(d is None for d in arguments.kw_defaults)
    assert required == 0, f"{module_name}.create_app needs arguments; uvicorn --factory passes none"
    if module_name in sys.modules:
        assert callable(sys.modules[module_name].create_app)


def cli_parser() -> tuple[Any, argparse.ArgumentParser]:
    """The `hjemflyt` console script's module, as declared in shared/pyproject.toml."""
    scripts = tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text())["project"]["scripts"]
    assert "hjemflyt" in scripts, "shared/pyproject.toml declares no `hjemflyt` script"
    module_name, attr = scripts["hjemflyt"].split(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attr))
    return module, module.build_parser()


def assert_cli_command(args: list[str], subcommand: str) -> None:
    assert args, "empty command"
    assert Path(args[0]).name == "hjemflyt", f"not the hjemflyt command: {args}"
    module, parser = cli_parser()
    parsed = parser.parse_args(args[1:])
    assert parsed.command == subcommand
    assert parsed.func is getattr(module, f"cmd_{subcommand}")


def production_settings(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings exactly as the container would build them: from these variables only."""
    for name in list(os.environ):
        if name.upper().startswith("HJEMFLYT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.env == Environment.production
    return settings


# --------------------------------------------------------------------------------------------
# docker-compose.yml


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    assert isinstance(data.get("services"), dict)
    return data


def compose_service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]  # type: ignore[no-any-return]


def raw_environment(name: str) -> dict[str, str]:
    env = compose_service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def environment(name: str, operator_env: Mapping[str, str] = OPERATOR_ENV) -> dict[str, str]:
    return {k: interpolate(v, operator_env) for k, v in raw_environment(name).items()}


def hjemflyt_containers() -> list[str]:
    """Compose services that run the hjemflyt image."""
    return ["migrate", *SERVICES, "portal"]


def test_compose_has_every_role() -> None:
    expected = {"postgres", *NATS_NODES, "migrate", "portal", "gateway", *SERVICES}
    assert expected <= set(compose()["services"])


def test_compose_hjemflyt_names_are_settings_fields() -> None:
    for name, service in compose()["services"].items():
        for key in raw_environment(name):
            if key.startswith("HJEMFLYT_"):
                assert key in SETTINGS_VARS, f"{name}: {key} is not a Settings field"
        # Also names used inside values and interpolations (${HJEMFLYT_...}).
        for text in strings(service):
            for found in HJEMFLYT_NAME.findall(text):
                assert found in SETTINGS_VARS, f"{name}: {found} is not a Settings field"


def test_compose_services_run_the_real_app_factories() -> None:
    for name in SERVICES:
        service = compose_service(name)
        args = argv(service["command"])
        assert factory_target(args) == f"hjemflyt.{name}.main:create_app", f"{name}: {args}"
        params = uvicorn_params(args)
        assert params["factory"]
        assert params["app"] == f"hjemflyt.{name}.main:create_app"
        create_app_is_a_factory(f"hjemflyt.{name}.main")
        assert params["host"] == ALL_INTERFACES
        assert params["port"] == SERVICE_PORT
        assert params["proxy_headers"]
        env = environment(name)
        assert env["HJEMFLYT_ROOT_PATH"] == f"/{name}"
        assert env["HJEMFLYT_SERVICE"] == name


def test_compose_migrate_and_portal_run_real_cli_subcommands() -> None:
    assert argv(compose_service("migrate")["command"])[:2] == ["hjemflyt", "migrate"]
    assert_cli_command(argv(compose_service("migrate")["command"]), "migrate")
    assert_cli_command(argv(compose_service("portal")["command"]), "portal")


def caddy_placeholders() -> set[str]:
    return set(re.findall(r"\{\$([A-Z_]+)\}", CADDYFILE.read_text()))


def test_compose_gateway_is_caddy_with_the_projects_caddyfile() -> None:
    gateway = compose_service("gateway")
    assert gateway["image"].startswith("caddy:")
    args = argv(gateway["command"])
    config = args[args.index("--config") + 1]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in gateway["volumes"]}
    assert (ROOT / mounted[config]).resolve() == CADDYFILE.resolve()
    env = environment("gateway")
    assert caddy_placeholders() <= set(env), "every {$VAR} of the Caddyfile must be set"
    assert env["GATEWAY_LISTEN"] == f":{SERVICE_PORT}"
    for name in SERVICES:
        assert env[f"{name.upper()}_UPSTREAM"] == f"{name}:{SERVICE_PORT}"
    assert env["PORTAL_UPSTREAM"] == f"portal:{SERVICE_PORT}"


def test_compose_start_order_and_health_checks() -> None:
    def conditions(name: str) -> dict[str, str]:
        depends = compose_service(name).get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        return {k: v.get("condition", "service_started") for k, v in depends.items()}

    assert conditions("migrate").get("postgres") == "service_healthy"
    assert str(compose_service("migrate").get("restart", "no")) == "no"
    for name in SERVICES:
        want = {"migrate": "service_completed_successfully", "postgres": "service_healthy"}
        want |= {node: "service_healthy" for node in NATS_NODES}
        got = conditions(name)
        for dependency, condition in want.items():
            assert got.get(dependency) == condition, f"{name} must wait for {dependency}: {condition}"
    assert all(conditions("gateway").get(name) == "service_healthy" for name in [*SERVICES, "portal"])

    for name, service in compose()["services"].items():
        if name == "migrate":
            continue
        check = service.get("healthcheck") or {}
        test = check.get("test") or []
        test = ["CMD-SHELL", test] if isinstance(test, str) else [str(t) for t in test]
        assert test[:1] in (["CMD"], ["CMD-SHELL"]), f"{name}: no healthcheck"
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        command = " ".join(test)
        if name in SERVICES:
            assert f"127.0.0.1:{SERVICE_PORT}/readyz" in command, f"{name}: healthcheck must use /readyz"
        if name in hjemflyt_containers():
            # The image has python, not curl or wget.
            assert test[1] == "python", f"{name}: {command}"
            assert not {"curl", "wget"} & set(command.split()), f"{name}: {command}"
        if name in NATS_NODES:
            assert "alpine" in service["image"], "the healthcheck needs wget: use an -alpine nats image"
        if name == "postgres":
            assert "pg_isready" in command


def test_compose_portal_and_gateway_reach_the_compose_services() -> None:
    env = environment("portal")
    assert env["HJEMFLYT_PORTAL_HOST"] == ALL_INTERFACES
    assert int(env["HJEMFLYT_PORTAL_PORT"]) == SERVICE_PORT
    for name in SERVICES:
        url = urlsplit(env[f"HJEMFLYT_{name.upper()}_URL"])
        assert (url.scheme, url.hostname, url.port) == ("http", name, SERVICE_PORT)
        assert url.hostname in compose()["services"]
    published = [str(p) for p in compose_service("gateway").get("ports", [])]
    assert published, "the gateway publishes no port"
    assert all(interpolate(p, {}).endswith(f":{SERVICE_PORT}") for p in published)
    for name, service in compose()["services"].items():
        if name != "gateway":
            assert not service.get("ports"), f"only the gateway publishes a port, not {name}"


def test_compose_nats_cluster() -> None:
    for name in hjemflyt_containers():
        env = environment(name)
        urls = [urlsplit(u.strip()) for u in env["HJEMFLYT_NATS_URL"].split(",")]
        assert {(u.scheme, u.hostname, u.port) for u in urls} == {("nats", n, 4222) for n in NATS_NODES}
        assert int(env["HJEMFLYT_NATS_STREAM_REPLICAS"]) == len(NATS_NODES) == 3

    configs = {}
    for node in NATS_NODES:
        service = compose_service(node)
        image = re.fullmatch(r"nats:(\d+)\.(\d+)(?:\.\d+)?-alpine", service["image"])
        assert image, f"{node}: {service['image']}: nats:2.x-alpine expected"
        assert (int(image[1]), int(image[2])) >= (2, 10), service["image"]
        config_path = option(argv(service["command"]), "--config") or option(argv(service["command"]), "-c")
        mounts = {}
        for volume in service["volumes"]:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
        assert config_path in mounts, f"{node}: its --config file is not mounted"
        source = mounts[config_path]
        assert source == f"./deploy/nats/{node}.conf"
        conf = nats_conf((ROOT / source).read_text())
        assert conf["jetstream"] is not None, f"{node}: JetStream is off"
        assert any(conf["store_dir"].startswith(t.rstrip("/") + "/") for t in mounts if t != config_path), (
            f"{node}: the JetStream store is not on a volume"
        )
        assert any(m in (compose().get("volumes") or {}) for m in mounts.values()), f"{node}: no named volume"
        assert port_of(conf["listen"]) == 4222
        assert f":{port_of(conf['http'])}/healthz" in " ".join(service["healthcheck"]["test"])
        configs[node] = conf

    assert len({c["server_name"] for c in configs.values()}) == len(NATS_NODES), "server_name must differ"
    assert len({c["cluster_name"] for c in configs.values()}) == 1
    for node, conf in configs.items():
        others = {
            f"{other}:{port_of(configs[other]['cluster_listen'])}" for other in NATS_NODES if other != node
        }
        assert set(conf["routes"]) == others, f"{node} must route to the other two nodes"


def test_compose_settings_pass_the_production_check(monkeypatch: pytest.MonkeyPatch) -> None:
    postgres = environment("postgres")
    assert re.fullmatch(r"postgres:1[6-9](\..*)?", compose_service("postgres")["image"])
    for name in hjemflyt_containers():
        settings = production_settings(environment(name), monkeypatch)
        assert not settings.dev_clock_control
        if name == "portal":
            continue
        db = urlsplit(settings.database_url)
        assert db.scheme == "postgresql+asyncpg"
        assert (db.hostname, db.port or 5432) == ("postgres", 5432)
        assert (db.username, db.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        assert db.path == "/" + postgres["POSTGRES_DB"]
        assert settings.pii_key.get_secret_value() == TEST_KEY
        assert settings.pii_index_key.get_secret_value() == TEST_INDEX_KEY


def test_compose_secrets_come_from_the_operator() -> None:
    assert_no_key_material(compose(), "docker-compose.yml")
    for missing in REQUIRED_FROM_OPERATOR:
        env = {k: v for k, v in OPERATOR_ENV.items() if k != missing}
        for name in ["migrate", *SERVICES]:
            with pytest.raises(MissingVariable):
                environment(name, env)
    for name in ["migrate", *SERVICES]:
        env = {k: v for k, v in OPERATOR_ENV.items() if k != "HJEMFLYT_BUS_PII_KEY"}
        if name in BUS_KEY_HOLDERS:
            with pytest.raises(MissingVariable):
                environment(name, env)
        else:
            assert "HJEMFLYT_BUS_PII_KEY" not in environment(name, env), f"{name} must not hold the bus key"
    # The gateway (the only container with a published port) and the portal get no real secret.
    for name in ("gateway", "portal"):
        for key, value in raw_environment(name).items():
            for variable in REQUIRED_FROM_OPERATOR:
                assert variable not in value, f"{name}: {key} carries {variable}"


def test_compose_postgres_allows_enough_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    args = argv(compose_service("postgres").get("command", []))
    limit = int(next((a.split("=", 1)[1] for a in args if a.startswith("max_connections=")), 100))
    needed = 1  # the migration step
    for name in SERVICES:
        replicas = int((compose_service(name).get("deploy") or {}).get("replicas", 1))
        pool = production_settings(environment(name), monkeypatch).database_pool_size
        # db.create_engine: pool_size + max_overflow (= pool_size), + the outbox relay's listener.
        needed += replicas * (2 * pool + 1)
    assert limit >= needed, f"max_connections={limit} < {needed}"


# --------------------------------------------------------------------------------------------
# deploy/Dockerfile and .dockerignore


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def workspace_members() -> list[Path]:
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    return sorted(p for pattern in members for p in ROOT.glob(pattern) if (p / "pyproject.toml").is_file())


def test_dockerfile_installs_runtime_dependencies_only() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = set(root.get("dependency-groups", {}))
    defaults = set(root.get("tool", {}).get("uv", {}).get("default-groups", ["dev"]))
    assert {"dev", "embedded"} <= groups
    syncs = [args for instruction, args in dockerfile() if instruction == "RUN" and "uv sync" in args]
    assert syncs, "the Dockerfile never runs uv sync"
    for run in syncs:
        for command in run.split("&&"):
            if "uv sync" not in command:
                continue
            flags = command.split()
            assert "--no-dev" in flags, command
            assert "--frozen" in flags or "--locked" in flags, command
            assert not {"--all-groups", "--group", "--only-group", "--dev", "--only-dev"} & set(flags)
            installed = set() if "--no-default-groups" in flags else set(defaults)
            installed -= {"dev"}
            installed -= {flags[i + 1] for i, f in enumerate(flags[:-1]) if f == "--no-group"}
            assert not installed & {"dev", "embedded"}, command
    assert any("--no-install-workspace" in s or "--no-install-project" in s for s in syncs), (
        "dependencies should be a layer of their own"
    )


def test_dockerfile_copies_every_workspace_member() -> None:
    copies = [args.split() for instruction, args in dockerfile() if instruction == "COPY"]
    sources = {src.rstrip("/") for parts in copies if not parts[0].startswith("--") for src in parts[:-1]}
    for source in sources:
        assert list(ROOT.glob(source)), f"COPY {source}: no such file"
    assert {"pyproject.toml", "uv.lock"} <= sources
    for member in workspace_members():
        relative = member.relative_to(ROOT).as_posix()
        assert f"{relative}/pyproject.toml" in sources, f"{relative}/pyproject.toml is not copied"
        package = "hjemflyt_provider" if relative.startswith("clients/") else "hjemflyt"
        assert f"{relative}/{package}" in sources, f"{relative}/{package} is not copied"


def test_dockerfile_runtime_stage() -> None:
    instructions = dockerfile()
    args: dict[str, str] = {}
    for instruction, rest in instructions:
        if instruction == "ARG" and "=" in rest:
            key, value = rest.split("=", 1)
            args.setdefault(key.strip(), value.strip())
        if instruction == "FROM":
            break
    stages = [i for i, (instruction, _) in enumerate(instructions) if instruction == "FROM"]
    assert len(stages) >= 2, "multi-stage: build and runtime"
    final = instructions[stages[-1] :]
    image = interpolate(final[0][1].split()[0], args)
    version = re.fullmatch(r"python:(\d+\.\d+)[^ ]*-slim[\w-]*", image)
    assert version, f"runtime base {image!r}: python slim expected"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"{version[1]}.0" in SpecifierSet(requires)
    users = [rest.split(":")[0] for instruction, rest in final if instruction == "USER"]
    assert users, "the runtime stage sets no USER"
    assert users[-1] not in {"root", "0"}, "the runtime stage must run as a non-root user"
    copied = [rest for instruction, rest in final if instruction == "COPY"]
    assert copied, "the runtime stage copies nothing"
    assert all(c.startswith("--from=") for c in copied), "the runtime stage copies the venv only"
    for instruction, rest in instructions:
        for found in HJEMFLYT_NAME.findall(rest):
            assert found in SETTINGS_VARS, f"Dockerfile {instruction}: {found} is not a Settings field"


def test_dockerignore_sends_sources_only() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for member in workspace_members():
        for source in [member / "pyproject.toml", *sorted((member / "hjemflyt").rglob("*.py"))[:5]]:
            relative = source.relative_to(ROOT).as_posix()
            assert not dockerignore_excludes(patterns, relative), f"{relative} is not sent to the build"
    for migration in ROOT.glob("services/*/hjemflyt/*/migrations/script.py.mako"):
        assert not dockerignore_excludes(patterns, migration.relative_to(ROOT).as_posix())
    for path in ("pyproject.toml", "uv.lock"):
        assert not dockerignore_excludes(patterns, path)
    for path in (
        ".env",
        ".git/HEAD",
        ".venv/bin/python",
        ".hjemflyt/run/dev-issuer/key.pem",
        "services/assessment/tests/test_x.py",
        "shared/hjemflyt/shared/__pycache__/cli.cpython-311.pyc",
    ):
        assert dockerignore_excludes(patterns, path), f"{path} would be sent to the build"


# --------------------------------------------------------------------------------------------
# deploy/kubernetes


@cache
def manifests() -> dict[str, list[dict[str, Any]]]:
    found = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert all(isinstance(d, dict) for d in docs), path
        found[path.name] = docs
    assert found, "no manifests in deploy/kubernetes"
    return found


def objects(kind: str) -> list[dict[str, Any]]:
    return [d for docs in manifests().values() for d in docs if d.get("kind") == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in objects(kind) if d["metadata"]["name"] == name]
    assert len(matches) == 1, f"one {kind} {name!r} expected"
    return matches[0]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def container_command(container: dict[str, Any]) -> list[str]:
    return argv([*container.get("command", []), *container.get("args", [])])


def deployment_for(service: str) -> dict[str, Any]:
    target = f"hjemflyt.{service}.main:create_app"
    found = [
        d for d in objects("Deployment") if factory_target(container_command(containers(d)[0])) == target
    ]
    assert len(found) == 1, f"one Deployment running {target} expected"
    return found[0]


def portal_deployment() -> dict[str, Any]:
    found = [
        d for d in objects("Deployment") if container_command(containers(d)[0])[:2] == ["hjemflyt", "portal"]
    ]
    assert len(found) == 1, "one Deployment running `hjemflyt portal` expected"
    return found[0]


def gateway_deployment() -> dict[str, Any]:
    found = [d for d in objects("Deployment") if containers(d)[0]["image"].startswith("caddy:")]
    assert len(found) == 1, "one Deployment running Caddy expected"
    return found[0]


def migrate_job() -> dict[str, Any]:
    found = [j for j in objects("Job") if container_command(containers(j)[0])[:2] == ["hjemflyt", "migrate"]]
    assert len(found) == 1, "one Job running `hjemflyt migrate` expected"
    return found[0]


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in ports, f"no container port named {port!r}"
    return int(ports[port])


def pod_env(container: dict[str, Any]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(literal values incl. ConfigMaps, secretKeyRefs) of one container."""
    values: dict[str, str] = {}
    secrets: dict[str, tuple[str, str]] = {}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, "name Secret keys one by one (env valueFrom), not envFrom"
        if "configMapRef" in source:
            values |= {
                k: str(v) for k, v in named("ConfigMap", source["configMapRef"]["name"])["data"].items()
            }
    for item in container.get("env", []):
        if "value" in item:
            values[item["name"]] = str(item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            secrets[item["name"]] = (ref["name"], ref["key"])
            values.pop(item["name"], None)
    return values, secrets


def with_test_secrets(values: dict[str, str], secrets: dict[str, tuple[str, str]]) -> dict[str, str]:
    stand_ins = {
        "HJEMFLYT_DATABASE_URL": "postgresql+asyncpg://hjemflyt:test@db.test.invalid:5432/hjemflyt",
        "HJEMFLYT_PII_KEY": TEST_KEY,
        "HJEMFLYT_PII_INDEX_KEY": TEST_INDEX_KEY,
    }
    return values | {name: stand_ins.get(name, "test") for name in secrets}


def test_kubernetes_manifests_parse_and_are_all_in_the_kustomization() -> None:
    kustomization = manifests().get("kustomization.yaml")
    assert kustomization, "deploy/kubernetes/kustomization.yaml is missing"
    listed = set(kustomization[0]["resources"])
    assert listed == set(manifests()) - {"kustomization.yaml"}
    for name, docs in manifests().items():
        if name != "kustomization.yaml":
            assert all({"apiVersion", "kind", "metadata"} <= set(d) for d in docs), name


def test_kubernetes_hjemflyt_names_are_settings_fields() -> None:
    for name, docs in manifests().items():
        for text in strings(docs):
            for found in HJEMFLYT_NAME.findall(text):
                assert found in SETTINGS_VARS, f"{name}: {found} is not a Settings field"


def test_kubernetes_service_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in SERVICES:
        deployment = deployment_for(service)
        assert deployment["spec"]["replicas"] >= 2, f"{service}: at least two replicas"
        container = containers(deployment)[0]
        params = uvicorn_params(container_command(container))
        assert params["factory"]
        create_app_is_a_factory(f"hjemflyt.{service}.main")
        assert params["port"] == SERVICE_PORT
        assert params["host"] == ALL_INTERFACES
        assert params["proxy_headers"]
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{service}: {probe} must GET {path}"
            assert resolve_port(container, get["port"]) == SERVICE_PORT
        values, secrets = pod_env(container)
        for secret in SECRET_SETTINGS:
            assert secret in secrets, f"{service}: {secret} must come from a Secret"
        assert ("HJEMFLYT_BUS_PII_KEY" in secrets) is (service in BUS_KEY_HOLDERS), service
        settings = production_settings(with_test_secrets(values, secrets), monkeypatch)
        assert settings.root_path == f"/{service}"
        assert settings.service == service
        assert settings.pii_key.get_secret_value() == TEST_KEY

        kube_service = named("Service", deployment["metadata"]["name"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert kube_service["spec"]["selector"].items() <= labels.items()
        ports = {p["port"]: p.get("targetPort", p["port"]) for p in kube_service["spec"]["ports"]}
        assert resolve_port(container, ports[SERVICE_PORT]) == SERVICE_PORT


def test_kubernetes_gateway_is_caddy_with_the_projects_caddyfile() -> None:
    deployment = gateway_deployment()
    assert deployment["spec"]["replicas"] >= 2
    container = containers(deployment)[0]
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    values, secrets = pod_env(container)
    assert not secrets, "the gateway needs no secret"
    args = container_command(container)
    config = Path(args[args.index("--config") + 1])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    [mounted] = [name for name, path in mounts.items() if Path(path) == config.parent]
    caddyfile = named("ConfigMap", volumes[mounted]["configMap"]["name"])["data"][config.name]
    assert caddyfile == CADDYFILE.read_text(), "deploy/kubernetes/gateway.yaml: copy deploy/Caddyfile again"
    assert caddy_placeholders() <= set(values), "every {$VAR} of the Caddyfile must be set"
    assert values["GATEWAY_LISTEN"] == f":{SERVICE_PORT}"
    for service in SERVICES:
        host, port = values[f"{service.upper()}_UPSTREAM"].split(":")
        target = named("Service", deployment_for(service)["metadata"]["name"])
        assert (host, int(port)) == (target["metadata"]["name"], SERVICE_PORT)
    host, port = values["PORTAL_UPSTREAM"].split(":")
    assert (host, int(port)) == (
        named("Service", portal_deployment()["metadata"]["name"])["metadata"]["name"],
        8000,
    )


def test_kubernetes_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = portal_deployment()
    container = containers(deployment)[0]
    assert_cli_command(container_command(container), "portal")
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    values, secrets = pod_env(container)
    assert not secrets, "the portal needs no secret"
    settings = production_settings(values, monkeypatch)
    assert settings.portal_host == ALL_INTERFACES
    assert settings.portal_port == SERVICE_PORT
    for service in SERVICES:
        url = urlsplit(settings.service_url(service))
        target = named("Service", deployment_for(service)["metadata"]["name"])
        assert (url.scheme, url.hostname, url.port) == ("http", target["metadata"]["name"], SERVICE_PORT)
        assert SERVICE_PORT in {p["port"] for p in target["spec"]["ports"]}


def test_kubernetes_migration_job(monkeypatch: pytest.MonkeyPatch) -> None:
    job = migrate_job()
    container = containers(job)[0]
    assert_cli_command(container_command(container), "migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}
    values, secrets = pod_env(container)
    assert "HJEMFLYT_DATABASE_URL" in secrets
    production_settings(with_test_secrets(values, secrets), monkeypatch)


def test_kubernetes_pods_run_as_non_root_from_the_kustomized_image() -> None:
    kustomization = manifests()["kustomization.yaml"][0]
    image_names = {i["name"] for i in kustomization.get("images", [])}
    for workload in [
        *(deployment_for(s) for s in SERVICES),
        portal_deployment(),
        gateway_deployment(),
        migrate_job(),
    ]:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        image = containers(workload)[0]["image"]
        if workload is gateway_deployment():
            continue  # Caddy's official image
        assert image.split(":")[0] in image_names, f"{image}: not set by the kustomization"


def test_kubernetes_nats_cluster() -> None:
    statefulset = named("StatefulSet", "nats")
    replicas = statefulset["spec"]["replicas"]
    config = named("ConfigMap", "nats-config")
    assert replicas == 3
    headless = named("Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    pods = [f"nats-{i}.{headless['metadata']['name']}" for i in range(replicas)]
    conf = nats_conf(next(iter(config["data"].values())))
    assert conf["jetstream"] is not None
    cluster_port = port_of(conf["cluster_listen"])
    assert set(conf["routes"]) == {f"{pod}:{cluster_port}" for pod in pods}
    hjemflyt_config = named("ConfigMap", "hjemflyt-config")["data"]
    urls = [urlsplit(u.strip()) for u in hjemflyt_config["HJEMFLYT_NATS_URL"].split(",")]
    assert {(u.hostname, u.port) for u in urls} == {(pod, port_of(conf["listen"])) for pod in pods}
    assert int(hjemflyt_config["HJEMFLYT_NATS_STREAM_REPLICAS"]) == replicas


def test_kubernetes_holds_no_secret_material() -> None:
    for name, docs in manifests().items():
        assert_no_key_material(docs, name)
    for secret in objects("Secret"):
        for field in ("data", "stringData"):
            for key, value in (secret.get(field) or {}).items():
                assert not value, (
                    f"Secret {secret['metadata']['name']}: {key} must not be committed with a value"
                )
    for workload in objects("Deployment") + objects("Job"):
        for container in containers(workload):
            for item in container.get("env", []):
                if item["name"] in SECRET_SETTINGS and "value" in item:
                    # Only the gateway's stand-ins are literal, and they are no keys.
                    assert container_command(container)[:2] == ["hjemflyt", "portal"], item["name"]
                    assert "unused" in item["value"]


def test_readme_documents_the_variables_the_files_set() -> None:
    readme = (DEPLOY / "README.md").read_text()
    documented = set(HJEMFLYT_NAME.findall(readme))
    assert documented <= SETTINGS_VARS, documented - SETTINGS_VARS
    used = {
        key for name in compose()["services"] for key in raw_environment(name) if key.startswith("HJEMFLYT_")
    }
    for docs in manifests().values():
        used |= {found for text in strings(docs) for found in HJEMFLYT_NAME.findall(text)}
    assert used <= documented, f"deploy/README.md does not explain {sorted(used - documented)}"
