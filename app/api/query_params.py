"""One rule for every API route: a query parameter the route does not declare is a 422.

`GET /invoices?q=...` used to be answered as if `q` were absent, so a typo (`?stauts=paid`) or a
filter the route lacks returned the unfiltered list without a word. The api router carries this
dependency once; it reads the matched route's declared query parameters (its own and its
dependencies', by their aliases, computed once per route) and refuses any other name with the
`validation-error` problem, its `errors` naming each unknown parameter (`loc: ["query", name]`).
"""

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

_declared: dict[int, frozenset[str]] = {}


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query_names(sub)
    return frozenset(names)


async def reject_unknown_query_params(request: Request) -> None:
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _declared.get(id(route))
    if allowed is None:
        allowed = _declared[id(route)] = declared_query_names(dependant)
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Unknown query parameter.", "type": "unknown_parameter"}
                for name in unknown
            ]
        )
