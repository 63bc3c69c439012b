"""The OpenAPI spec states every bound a request body enforces in JSON Schema's own words. A
pydantic constraint it cannot place (e.g. `ge` behind a BeforeValidator) comes out as a key JSON
Schema does not know ("ge", "le", ...): clients and the fuzzer would then send values we refuse."""

from collections.abc import Iterator

PYDANTIC_ONLY_KEYS = {"ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "strict"}


def keys_in(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PYDANTIC_ONLY_KEYS and not path.endswith(("/properties", "/examples")):
                yield path, key
            yield from keys_in(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from keys_in(value, f"{path}/{index}")


async def test_no_constraint_is_left_in_pydantic_words(client):
    spec = (await client.get("/openapi.json")).json()
    assert list(keys_in(spec)) == []
