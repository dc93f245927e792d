"""The page shape of CONTRACT.md §2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel

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


class PageMeta(BaseModel):
    """Where a page is in its list: every paginated answer has these beside ``docs``."""

    page: int
    limit: int
    totalDocs: int
    totalPages: int
    hasNextPage: bool
    hasPrevPage: bool
    nextCursor: str | None


def keyset_page_of(
    docs: list[Any],
    *,
    page: int,
    limit: int,
    total: int,
    next_cursor: str | None,
    by_cursor: bool,
) -> dict[str, Any]:
    """``page_of`` for a list that pages by cursor too: whether there is more is what the
    query found, not arithmetic on a page number a cursor walk does not have."""
    shaped = page_of(docs, page=page, limit=limit, total=total, next_cursor=next_cursor)
    shaped["hasNextPage"] = next_cursor is not None
    if by_cursor:
        shaped["hasPrevPage"] = True
    return shaped


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
