"""Who is asking, and the password-attempt budget every password check spends.

A login and a password check on a logged-in account (to change the password or the email)
draw on one budget, so a stolen access token guesses no faster than the login form allows.
Attempts are spent before the check, so a flood of guesses costs the guesser, not the
hasher. Sign-up's code budgets live in ``signups``, their only spender."""

from __future__ import annotations

from dataclasses import dataclass

from bandstand.accounts import passwords
from bandstand.config import Settings
from bandstand.errors import TooManyRequests
from bandstand.kit.ratelimit import RateLimiter
from bandstand.models import User


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as throttling cares."""

    address: str
    user_agent: str | None = None
    device_token: str | None = None


def account_key(identifier: str, user: User | None) -> str:
    # By account where there is one, so its email and its username share one budget.
    return f"user:{user.id}" if user is not None else f"login:{identifier}"


async def spend_password_attempt(
    limiter: RateLimiter,
    settings: Settings,
    account: str,
    client: Client,
    *,
    device: str | None = None,
) -> None:
    """Spend a password attempt before checking it: per account from this client, per
    client, and per account from anywhere.

    ``device``: a browser that logged in to this account before (``sessions``) spends only
    a budget of its own, so strangers failing on the account, from anywhere or from the
    same address, never hold its owner back; a stolen device mark guesses no faster than
    one client may."""
    s = settings
    if device is not None:
        budgets = [(s.login_per_pair, f"device:{device}")]
    else:
        budgets = [
            (s.login_per_pair, f"pair:{account}:{client.address}"),
            (s.login_per_client, f"client:{client.address}"),
            (s.login_per_account, f"account:{account}"),
        ]
    for limit, key in budgets:
        verdict = await limiter.hit(limit, "password", key)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after, "Too many password attempts. Try later.")


async def password_succeeded(
    limiter: RateLimiter, per_pair: str, account: str, client: Client, device: str | None = None
) -> None:
    """The right password from this client forgives its earlier misses on this account
    (``per_pair``: the budget of one account from one client, or from one device)."""
    key = f"device:{device}" if device is not None else f"pair:{account}:{client.address}"
    await limiter.clear(per_pair, "password", key)


async def check_password(
    limiter: RateLimiter, settings: Settings, user: User, password: str, client: Client
) -> bool:
    """A password check on a logged-in account spends the same budget a login does."""
    account = account_key(user.email, user)
    await spend_password_attempt(limiter, settings, account, client)
    ok = await passwords.verify_password(settings.password_hash_cost, user.password_hash, password)
    if ok:
        await password_succeeded(limiter, settings.login_per_pair, account, client)
    return ok
