"""`?ids=a,b,c`: a batch read on a list route, for a screen that holds ids and wants the rows.

At most MAX_IDS UUIDs, comma-separated (the spec's pattern says so, so a longer list is a 422). The
list answers the rows with those ids among the bound tenant's, in the list's order; an unknown id,
or another tenant's, is simply absent (the same answer for both). The list's other filters still
apply, except the archived default: a batch read returns archived rows too, since a document may
name an archived customer or company.
"""

import uuid
from typing import Annotated

from fastapi import Query

MAX_IDS = 100
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
IDS_PATTERN = f"^{_UUID}(,{_UUID}){{0,{MAX_IDS - 1}}}$"


async def id_list(
    ids: Annotated[
        str | None,
        Query(
            max_length=MAX_IDS * 37,
            pattern=IDS_PATTERN,
            description=f"Batch read: up to {MAX_IDS} comma-separated ids. Ids not found here are simply absent; "
            "archived rows are included. Pages as usual (`limit` up to 100).",
        ),
    ] = None,
) -> list[uuid.UUID] | None:
    return None if ids is None else list(dict.fromkeys(uuid.UUID(part) for part in ids.split(",")))
