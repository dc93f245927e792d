"""Who may moderate: the dependencies every ``/admin`` route declares. Without a login the
answer is 401; with one that is not a moderator's (or, for roles and the audit log, an
admin's) it is 403, before anything about the target is looked up, so a user learns
nothing of which ids exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bandstand.accounts.deps import Principal, PrincipalDep
from bandstand.errors import Forbidden
from bandstand.models import Role
from bandstand.moderation.service import STAFF, Actor, Effects
from bandstand.resources import CatalogueDep, CommentAnswersDep, CountersDep, QueueDep


def _actor(principal: Principal) -> Actor:
    account = principal.account
    return Actor(id=principal.user_id, name=account.username, role=account.role)


async def _moderator(principal: PrincipalDep) -> Actor:
    if principal.account.role not in STAFF:
        raise Forbidden("Only moderators can do this.")
    return _actor(principal)


async def _admin(principal: PrincipalDep) -> Actor:
    if principal.account.role != Role.ADMIN:
        raise Forbidden("Only admins can do this.")
    return _actor(principal)


ModeratorDep = Annotated[Actor, Depends(_moderator)]
AdminDep = Annotated[Actor, Depends(_admin)]


async def _effects(
    queue: QueueDep,
    catalogue: CatalogueDep,
    counters: CountersDep,
    comment_answers: CommentAnswersDep,
) -> Effects:
    return Effects(
        queue=queue, catalogue=catalogue, counters=counters, comment_answers=comment_answers
    )


# What an action on content reaches beyond the database (``service.Effects``).
EffectsDep = Annotated[Effects, Depends(_effects)]
