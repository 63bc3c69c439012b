"""The import graph of app/ keeps its layers: every import (module level or inside a function)
is read with ast and checked against the rules below, so an arrow running back up fails here.

Top to bottom: entry points (app.main, app.asgi, app.__main__, app.jobs, app.middleware) > api >
services > repositories > models. Beside them: schemas (the API's shapes) may import the domain,
core and models only; the domain (pure rules) imports nothing from app but itself and no I/O
library; core (config, database, errors, security, tenancy) imports no api, services,
repositories or schemas."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# A layer may import the layers listed for it (and itself); anything else of app is an arrow the wrong way.
ALLOWED = {
    "entry": {
        "api",
        "services",
        "repositories",
        "models",
        "schemas",
        "rendering",
        "domain",
        "core",
        "jobs",
        "middleware",
        "entry",
    },
    "jobs": {"services", "repositories", "models", "schemas", "rendering", "domain", "core"},
    # Middleware runs before routing: core (errors, security), models (utcnow) and the query-text rule of schemas.
    "middleware": {"models", "schemas", "domain", "core"},
    "api": {"services", "repositories", "models", "schemas", "rendering", "domain", "core"},
    # Services take the request bodies (schemas) they validate further, e.g. invoicing.create(body=InvoiceIn).
    "services": {"repositories", "models", "schemas", "rendering", "domain", "core"},
    "repositories": {"models", "domain", "core"},
    "models": {"domain", "core"},
    "schemas": {"models", "domain", "core"},
    # Documents as bytes (PDFs, QR codes) from plain data: no database, no web framework, no settings.
    "rendering": {"domain"},
    "domain": set(),
    # Core sits under models with these exceptions, each a reason: tenancy knows which models are
    # tenant-owned (the ORM filter), roles the RLS table list the models declare, runtime the one
    # clock function (models.base.utcnow) so "now" has a single definition. Core may use the domain
    # (pure rules, under every layer): the request context's `today` and subscription policy.
    "core": {"models", "domain"},
}
CORE_MAY_IMPORT_MODELS = {"app.core.tenancy", "app.core.roles", "app.core.runtime"}
# The domain is pure: no database, no web framework, no settings.
DOMAIN_FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "asyncpg", "pydantic_settings", "app.core")


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in {"main", "asgi", "__main__"}:
        return "entry"
    return parts[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import in the file, names of `from x import y`
    included as `x.y` (they may be modules: `from app.services import gst`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; the app uses absolute imports"
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def graph(root: Path = APP) -> list[tuple[str, int, str]]:
    return [(module_name(path), line, target) for path in sorted(root.rglob("*.py")) for line, target in imports(path)]


def violations(edges: list[tuple[str, int, str]]) -> list[str]:
    found = []
    for source, line, target in edges:
        where = f"{source}:{line} imports {target}"
        source_layer = layer_of(source)
        if source_layer == "domain" and target.startswith(DOMAIN_FORBIDDEN):
            found.append(f"{where}: the domain does no I/O and reads no settings")
        if not target.startswith("app.") or target == "app":
            continue
        target_layer = layer_of(target)
        if target_layer == source_layer:
            continue
        if target_layer not in ALLOWED[source_layer]:
            found.append(f"{where}: {source_layer} may not import {target_layer}")
        elif source_layer == "core" and target_layer == "models" and source not in CORE_MAY_IMPORT_MODELS:
            found.append(f"{where}: only {sorted(CORE_MAY_IMPORT_MODELS)} of core may import models")
    return found


def test_every_module_is_in_a_known_layer():
    assert {layer_of(source) for source, _, _ in graph()} <= set(ALLOWED)


def test_no_import_runs_back_up_between_layers():
    assert violations(graph()) == []


def test_schemas_import_no_service_or_repository():
    assert [
        f"{source}:{line} imports {target}"
        for source, line, target in graph()
        if layer_of(source) == "schemas" and target.startswith(("app.services", "app.repositories"))
    ] == []


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        ("app.schemas.billing.invoices", "app.repositories.billing.invoices", "schemas may not import repositories"),
        ("app.schemas.platform.usage", "app.services.platform.usage", "schemas may not import services"),
        ("app.repositories.billing.invoices", "app.services.billing.invoicing", "repositories may not import services"),
        ("app.models.billing.invoice", "app.repositories.base", "models may not import repositories"),
        ("app.services.billing.invoicing", "app.api.v1.billing.invoices", "services may not import api"),
        ("app.domain.gst", "app.core.config", "the domain does no I/O"),
        ("app.domain.gst", "sqlalchemy", "the domain does no I/O"),
        ("app.domain.gst", "app.models.billing.invoice", "domain may not import models"),
        ("app.core.config", "app.services.billing.rules", "core may not import services"),
        ("app.core.security", "app.models.identity.user", "of core may import models"),
        ("app.domain.fiscal", "app.core.context", "the domain does no I/O"),
    ],
)
def test_a_violation_is_caught(source, target, rule):
    """The checker itself: each arrow the wrong way is reported with its rule."""
    (message,) = [v for v in violations([(source, 1, target)]) if rule in v]
    assert target in message


def test_a_violation_written_in_a_file_fails(tmp_path):
    """End to end on files: a schema module importing a service is found by walking the tree."""
    package = tmp_path / "app" / "schemas"
    package.mkdir(parents=True)
    (package / "bad.py").write_text("def f():\n    from app.services import invoicing\n")
    edges = [(module_name_under(tmp_path, p), line, t) for p in package.rglob("*.py") for line, t in imports(p)]
    assert violations(edges) == [
        "app.schemas.bad:2 imports app.services: schemas may not import services",
        "app.schemas.bad:2 imports app.services.invoicing: schemas may not import services",
    ]


def module_name_under(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


# CONVENTIONS: past ~40 files a layer is grouped by context, with the same groups in every layer.
GROUPED_LAYERS = ["services", "repositories", "schemas", "api/v1", "models"]
CONTEXTS = {"identity", "platform", "billing", "catalog", "commerce", "documents"}
# What several contexts share stays at the layer's top (bases and common field types).
SHARED = {"repositories": {"base"}, "schemas": {"common", "money"}, "models": {"base"}}


@pytest.mark.parametrize("layer", GROUPED_LAYERS)
def test_every_feature_module_sits_in_a_context(layer):
    root = APP / layer
    loose = {p.stem for p in root.glob("*.py")} - {"__init__"} - SHARED.get(layer, set())
    assert loose == set(), f"app/{layer}: put these in one of {sorted(CONTEXTS)}"
    groups = {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"} - {"v1"}
    assert groups <= CONTEXTS, f"app/{layer}: unknown contexts {groups - CONTEXTS}"
    assert all((root / group / "__init__.py").exists() for group in groups)
