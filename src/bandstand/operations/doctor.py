"""``bandstand doctor``: one line per dependency, for the operator checking a deployment.

Each check asks the real thing (a query, a PING, a probe file, an EHLO) with a short
timeout, so a dependency that is down fails its line in seconds instead of hanging the
command. A check that does not apply to this installation says so and passes.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
from sqlalchemy.engine import make_url

from bandstand.config import Settings
from bandstand.kit.redisclient import connect
from bandstand.kit.signing import media_url_key
from bandstand.operations.schema import schema_state
from bandstand.storage import build_storage, new_key

TIMEOUT_S = 5.0
# Secrets that appear in examples and tutorials: set, long enough, and known to everyone.
KNOWN_SECRETS = {"changeme", "change-me", "secret", "your-secret-key", "supersecret"}
# A secret of at least 32 characters drawn from fewer different ones than this is a
# repeated pattern ("xxxx...", "abcabc..."), not a random key.
MIN_DISTINCT = 12
_MEDIA_KEY = re.compile(r'set \$bandstand_media_key "([0-9a-f]+)";')
_MEDIA_ROOT = re.compile(r"alias (\S+)/\$1;")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def run_checks(settings: Settings, nginx_config: Path | None) -> list[Check]:
    """Every check, each within ``TIMEOUT_S``, in the order they are printed."""
    checks: list[tuple[str, Callable[[], Awaitable[Check]]]] = [
        ("database", lambda: _database(settings)),
        ("redis", lambda: _redis(settings)),
        ("storage", lambda: _storage(settings)),
        ("mail", lambda: _mail(settings)),
        ("secret", lambda: _secret(settings)),
        ("nginx", lambda: _nginx(settings, nginx_config)),
    ]
    return [await _bounded(name, check) for name, check in checks]


async def _bounded(name: str, check: Callable[[], Awaitable[Check]]) -> Check:
    try:
        return await asyncio.wait_for(check(), TIMEOUT_S)
    except TimeoutError:
        return Check(name, False, f"no answer within {TIMEOUT_S:.0f} s")
    except Exception as exc:  # whatever broke, it is this line's failure, not the command's
        said = str(exc).strip().splitlines()
        return Check(name, False, said[0] if said else type(exc).__name__)


async def _database(settings: Settings) -> Check:
    url = make_url(settings.effective_database_url)
    where = url.database if settings.is_embedded_database else url.render_as_string()
    state = await schema_state(settings.effective_database_url)
    if not state.at_head:
        return Check(
            "database",
            False,
            f"{where}: {state.pending} migrations pending (run `bandstand migrate`)",
        )
    return Check("database", True, f"{where}: reachable, at the latest migration ({state.head})")


async def _redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", True, "not used (embedded)")
    client = connect(settings.redis_url)
    try:
        await client.ping()
        try:
            aof = await client.config_get("appendonly")
            save = await client.config_get("save")
        except Exception:  # managed Redis often refuses CONFIG
            return Check("redis", True, "reachable; persistence unknown (CONFIG refused)")
    finally:
        await client.aclose()
    if aof.get("appendonly") == "yes":
        return Check("redis", True, "reachable, persistent (append-only file)")
    if save.get("save"):
        return Check("redis", True, f"reachable, persistent (snapshots: save {save['save']})")
    return Check(
        "redis",
        False,
        "reachable but not persistent (appendonly no, save ''): a restart loses pending "
        "counts and queued jobs; turn on appendonly",
    )


async def _storage(settings: Settings) -> Check:
    storage = build_storage(settings)
    where = settings.storage_url or str(settings.media_dir)
    key = new_key("probes", "txt")
    probe = b"bandstand doctor"
    await storage.put(key, probe, "text/plain")
    try:
        if await storage.get(key) != probe:
            return Check("storage", False, f"{where}: a probe file read back different")
    finally:
        await storage.delete(key)
    return Check("storage", True, f"{where}: writable (a probe written, read, deleted)")


async def _mail(settings: Settings) -> Check:
    if not settings.smtp_host:
        return Check("mail", True, f"no SMTP set: emails are written to {settings.outbox_dir}")
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    context = ssl.create_default_context(cafile=cafile) if settings.smtp_tls != "none" else None
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        tls_context=context,
        timeout=TIMEOUT_S,
    )
    await smtp.connect()
    try:
        await smtp.ehlo()
    finally:
        smtp.close()
    return Check("mail", True, f"{settings.smtp_host}:{settings.smtp_port} answers EHLO")


async def _secret(settings: Settings) -> Check:
    if settings.secret_key is None:
        # Production refuses to start without one (config.py): this is development.
        kept = settings.data_dir / "secret_key"
        return Check("secret", True, f"not set: the data folder's random key ({kept})")
    secret = settings.secret_key.get_secret_value()
    if secret.lower() in KNOWN_SECRETS or len(secret) < 32:
        return Check("secret", False, "BANDSTAND_SECRET_KEY is a default or too short")
    if len(set(secret)) < MIN_DISTINCT:
        return Check(
            "secret",
            False,
            "BANDSTAND_SECRET_KEY is a repeated pattern, not a random key "
            "(make one: python -c 'import secrets; print(secrets.token_urlsafe(48))')",
        )
    return Check("secret", True, "BANDSTAND_SECRET_KEY is set and looks random")


async def _nginx(settings: Settings, config: Path | None) -> Check:
    if settings.storage_url:
        return Check("nginx", True, "not needed: media on S3 are sent by presigned redirects")
    if config is None:
        return Check("nginx", True, "skipped (give --nginx-config PATH to check it)")
    text = await asyncio.to_thread(config.read_text)
    found = _MEDIA_KEY.search(text)
    if found is None:
        return Check("nginx", False, f"{config} was not written by `bandstand proxy-config`")
    rewrite = "write it again with `bandstand proxy-config`"
    if found.group(1) != media_url_key(settings.signing_secret()).hex():
        return Check("nginx", False, f"{config} holds another media key: {rewrite}")
    root = _MEDIA_ROOT.search(text)
    if root is None or Path(root.group(1)) != settings.media_dir.resolve():
        return Check("nginx", False, f"{config} serves another media folder: {rewrite}")
    return Check("nginx", True, f"{config} matches this installation's key and media folder")
