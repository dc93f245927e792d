"""The page shape of CONTRACT.md §2."""

from __future__ import annotations

from typing import Any


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


class PageParams:
    """``page`` (from 1) and ``limit`` (1..100; larger is clamped) from the query."""

    def __init__(self, page: int = 1, limit: int = 10) -> None:
        from bandstand.errors import BadRequest

        if page < 1:
            raise BadRequest(
                "Invalid input.", errors=[{"field": "page", "message": "Must be 1 or more."}]
            )
        if limit < 1:
            raise BadRequest(
                "Invalid input.", errors=[{"field": "limit", "message": "Must be 1 or more."}]
            )
        self.page = page
        self.limit = min(limit, 100)
