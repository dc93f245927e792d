"""HTTP for moderation: ``/api/v1/reports`` (any logged-in user) and ``/api/v1/admin``
(moderators and admins)."""

from __future__ import annotations

from fastapi import APIRouter

reports_router = APIRouter(prefix="/reports", tags=["moderation"])
admin_router = APIRouter(prefix="/admin", tags=["moderation"])
