"""Every problem `code` the API can answer is registered once (app/core/errors.py PROBLEM_TYPES),
documented in the spec, and raised somewhere: the registry, the code and the spec stay in step.

What the code raises is read from its source: `code="..."` at a raise, `problem("...")` in the
handlers and middleware, the string codes the handlers choose from, each AppError class's own code
when the class is raised without `code=`, and the few codes built from a name (listed below)."""

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import app.services
from app.core import errors
from app.core.errors import PROBLEM_TYPES, AppError
from app.main import create_app
from app.services.billing.customers import REFERENCES
from app.services.billing.simple_lists import Catalog

APP = Path(__file__).parents[2] / "app"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(APP.rglob("*.py"))]


def _name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)


def _app_error_classes() -> dict[str, type[AppError]]:
    return {name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, AppError)}


def _catalogs() -> list[Catalog]:
    """Every entity the generic catalog service (and so the CRUD route factory) serves."""
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(app.services.__path__, "app.services.")]
    return [value for module in modules for value in vars(module).values() if isinstance(value, Catalog)]


def _built_from_names() -> set[str]:
    """Codes made by an f-string at the raise; each such raise is counted in test_codes_built_from_names."""
    exists = {
        f"{catalog.entity.replace('_', '-')}-exists" for catalog in _catalogs()
    }  # services/billing/simple_lists.py _save
    not_found = {
        f"{field.removesuffix('_id').replace('_', '-')}-not-found" for field in REFERENCES
    }  # ReferenceNotFound
    required = {"unit-price-required", "gst-rate-required"}  # domain/invoice_math.py: a line's two defaults
    return exists | not_found | required


def raised_codes() -> dict[str, set[str]]:
    """code -> where it is raised (file:line), read from app/'s source."""
    classes = _app_error_classes()
    found: dict[str, set[str]] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            where = f"{path.relative_to(APP.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _name(node)
                # app/domain raises plain errors carrying a problem code, which services re-raise as AppErrors
                problem_call = name in classes or path.is_relative_to(APP / "domain")
                code = next((k.value for k in node.keywords if k.arg == "code"), None) if problem_call else None
                if isinstance(code, ast.Constant):
                    found.setdefault(code.value, set()).add(where)
                elif code is None and name in classes and name != "AppError" and "code" in _defined(classes[name]):
                    found.setdefault(classes[name].code, set()).add(where)
                if name == "problem" and node.args and isinstance(node.args[0], ast.Constant):
                    found.setdefault(node.args[0].value, set()).add(where)
        if path.name == "errors.py" and path.parent.name == "core":
            for function in tree.body:  # the handlers' own choices (the HTTP-status mapping)
                if isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef):
                    for node in ast.walk(function):
                        if isinstance(node, ast.Constant) and node.value in PROBLEM_TYPES:
                            found.setdefault(node.value, set()).add(f"app/core/errors.py:{node.lineno}")
    for code in _built_from_names():
        found.setdefault(code, set()).add("built from a name")
    return found


def _defined(cls: type) -> set[str]:
    """Attributes a class or one of its AppError ancestors defines (its default code among them)."""
    return {key for klass in cls.__mro__ if issubclass(klass, AppError) for key in vars(klass)}


def test_every_raised_code_is_registered():
    unregistered = {code: where for code, where in raised_codes().items() if code not in PROBLEM_TYPES}
    assert unregistered == {}


def test_no_registered_code_is_dead():
    assert set(PROBLEM_TYPES) - set(raised_codes()) == set()


def test_codes_built_from_names():
    """Every `code=` that is not a literal: the three places that build one from a name (counted in
    _built_from_names), and errors.py's classes passing their caller's code on. A new one must be
    added to _built_from_names (and its codes to the registry)."""
    built = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            in_domain = path.is_relative_to(APP / "domain")  # domain errors carry a problem code too
            if isinstance(node, ast.Call) and (
                _name(node) in _app_error_classes() | {"__init__": AppError} or in_domain
            ):
                built += [
                    f"{path.name}:{type(k.value).__name__}"
                    for k in node.keywords
                    if k.arg == "code" and not isinstance(k.value, ast.Constant) and not _passed_on(k.value)
                ]
    assert sorted(built) == [
        "errors.py:Name",  # RuleViolation passes its caller's code on
        "errors.py:Name",  # ReferenceNotFound: `<field>-not-found`
        "invoice_math.py:JoinedStr",  # domain/invoice_math.py: `<default>-required`
        "simple_lists.py:JoinedStr",  # services/billing/simple_lists.py: `<entity>-exists`
    ]


def _passed_on(value: ast.expr) -> bool:
    """`code=exc.code`: another error's code, passed on; the scan reads it where that one is raised."""
    return isinstance(value, ast.Attribute) and value.attr == "code"


def test_a_code_keeps_its_class_status():
    """`NotFound(..., code="x")`: x is registered as a 404 (the class says what kind of answer it is)."""
    classes = _app_error_classes()
    wrong = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in classes:
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
                status = getattr(classes[_name(node)], "status", None)
                if isinstance(code, ast.Constant) and status is not None and PROBLEM_TYPES[code.value][0] != status:
                    wrong.append((path.name, node.lineno, code.value, status))
    assert wrong == []


def _spec() -> dict:
    return create_app().openapi()


def test_every_code_is_in_the_spec():
    spec = _spec()
    documented = set(spec["components"]["schemas"]["ProblemCode"]["enum"])
    assert set(raised_codes()) | {"validation-error"} <= documented
    assert documented == set(PROBLEM_TYPES)
    description = spec["components"]["schemas"]["ProblemCode"]["description"]
    assert all(f"`{code}`" in description for code in PROBLEM_TYPES)


def test_every_error_answer_is_the_shared_problem():
    spec = _spec()
    inline = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    expected = "QuotaProblem" if status == "402" else "Problem"
                    content = response.get("content", {})
                    if content != {
                        "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{expected}"}}
                    }:
                        inline.append((method, path, status))
                if status in ("429", "503"):
                    assert "Retry-After" in response["headers"], (method, path, status)
                assert "X-Request-ID" in response["headers"], (method, path, status)
    assert inline == []
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    quota = spec["components"]["schemas"]["QuotaProblem"]
    assert quota["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
    assert {"limit", "limit_value", "used", "upgrade_plans"} <= set(quota["allOf"][1]["properties"])


def test_idempotent_operations_document_the_replay_header():
    spec = _spec()
    idempotent = [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if any(p["name"].lower() == "idempotency-key" for p in operation.get("parameters", []))
    ]
    assert idempotent
    for method, path, operation in idempotent:
        success = [r for status, r in operation["responses"].items() if status.startswith("2")]
        assert all("Idempotent-Replayed" in r["headers"] for r in success), (method, path)


def test_operation_ids_are_unique_camel_case_and_tagged():
    spec = _spec()
    operations = [op for operations in spec["paths"].values() for op in operations.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not CAMEL.match(i)] == []
    assert [i for i, op in zip(ids, operations, strict=True) if not op.get("tags")] == []
    assert [tag["name"] for tag in spec["tags"] if not tag.get("description")] == []  # one line per area
    for name in ("listInvoices", "getInvoice", "issueInvoice", "createCustomer", "listClientTypes", "getCompany"):
        assert name in ids
