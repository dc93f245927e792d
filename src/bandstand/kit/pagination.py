"""The page shape of CONTRACT.md §2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from bandstand.errors import BadRequest

MAX_LIMIT = 100
# Deeper than this, a page number is a mistake or an attack; cursors go anywhere.
MAX_PAGE = 100_000


def page_of(
    docs: list[Any], *, page: int, limit: int, total: int, next_cursor: str | None = None
) -> dict[str, Any]:
    pages = (total + limit - 1) // limit if limit else 0
    return {
        "docs": docs,
        "page": page,
        "limit": limit,
        "totalDocs": total,
        "totalPages": pages,
        "hasNextPage": page < pages,
        "hasPrevPage": page > 1,
        "nextCursor": next_cursor,
    }


@dataclass(frozen=True)
class Paging:
    page: int
    limit: int


async def paging(page: int = 1, limit: int = 10) -> Paging:
    """``page`` (from 1) and ``limit`` (1..100; larger is clamped) from the query."""
    errors = [
        {"field": name, "message": "Must be 1 or more."}
        for name, value in (("page", page), ("limit", limit))
        if value < 1
    ]
    if page > MAX_PAGE:
        errors.append({"field": "page", "message": f"At most {MAX_PAGE}; use the cursor."})
    if errors:
        raise BadRequest("Invalid input.", errors=errors)
    return Paging(page=page, limit=min(limit, MAX_LIMIT))


PagingDep = Annotated[Paging, Depends(paging)]
