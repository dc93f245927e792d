"""One typed settings object, read from ``BANDSTAND_*`` variables and ``.env``."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_DATABASE_URL_FORMS = "postgresql://user:password@host:5432/name or sqlite:///path/to/file.db"


# What a libpq URL may say that the asyncpg driver understands too. libpq's sslmode is
# asyncpg's ssl; anything else libpq-only (connect_timeout, application_name, sslrootcert
# ...) is refused rather than passed to a driver that would fail on it at connect.
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_QUERY_OPTIONS = ("ssl", "host")


def _asyncpg_query(url: URL) -> URL:
    """``url`` with libpq's ``sslmode=`` as asyncpg's ``ssl=``; other options refused."""
    query = dict(url.query)
    if "sslmode" in query:
        if "ssl" in query:
            raise ValueError("give sslmode= or ssl=, not both")
        query["ssl"] = query.pop("sslmode")
    unknown = sorted(set(query) - set(_QUERY_OPTIONS))
    if unknown:
        raise ValueError(
            f"unsupported option {', '.join(unknown)} in the database URL; "
            "only sslmode (or ssl) and host are understood"
        )
    if "ssl" in query and query["ssl"] not in _SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(_SSL_MODES)}")
    return url.set(query=query)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, which ``taskset`` and container
    CPU sets narrow), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BANDSTAND_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
    # Where `bandstand serve` listens (its --host and --port win over these).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # postgresql://user:password@host/name (postgres:// and postgresql+asyncpg:// too);
    # unset: SQLite in the data dir.
    database_url: str | None = None
    redis_url: str | None = None
    # Prefix of every Redis key, so several deployments (or test runs) can share a server.
    redis_namespace: str = "bandstand"
    # Unset outside production: a random key is made once and kept in the data dir.
    secret_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_json: bool = False
    # /metrics (Prometheus): off unless asked, and then only for a scraper that sends
    # ``Authorization: Bearer <metrics_token>``. Every process of one installation
    # (``serve --workers N``, ``bandstand worker``) records into ``metrics_dir`` (default:
    # the data dir's ``metrics``), a folder they must share; any of them answers for all.
    metrics_enabled: bool = False
    metrics_token: SecretStr | None = None
    metrics_dir: Path | None = None

    # request bodies
    max_json_bytes: int = 64 * 1024
    image_max_bytes: int = 5 * 1024 * 1024
    audio_max_bytes: int = 200 * 1024 * 1024
    audio_max_duration_s: int = 3 * 3600
    avatar_size_px: int = 512

    # media storage: a local folder unless BANDSTAND_STORAGE_URL=s3://bucket/prefix
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    # Production: bytes skip Python. Local files answer with X-Accel-Redirect to this
    # internal location of the proxy; S3 objects with a redirect to a presigned URL.
    media_offload: bool = False
    accel_redirect_prefix: str = "/_protected/"
    stream_url_ttl_s: int = 6 * 3600
    # The newest-songs pages are the same for everyone: each process keeps its answers this
    # long (0: never), and forgets them at once when it changes a song itself.
    catalogue_cache_s: float = 1.0

    # background jobs (taskiq): in-process without Redis, a Redis stream with it. Each job
    # waits in the database (pending_jobs) until done; the queue only carries its id.
    job_max_tries: int = 4  # tries, counting those whose worker died, before giving up
    # The first retry waits this long, each later one longer (the last wait times the
    # retry's number: 5, 10, 30 s ...), never more than the next, plus up to 50 % jitter.
    job_retry_delay_s: float = 5.0
    job_retry_max_delay_s: float = 300.0
    # A running job is its worker's for this long, renewed every third of it while the
    # worker lives: a dead worker's job goes to another within about this long, and a
    # live worker's job is never taken from it however long it runs.
    job_lease_s: float = 30.0
    # How often each process that runs jobs hands due jobs (a dead worker's, a retry's, one
    # the queue lost) to the queue again.
    job_relay_every_s: float = 2.0
    # A job queued this long and not started is queued again (its message may be lost);
    # a second message for a job is harmless, only one runs it.
    job_redeliver_after_s: float = 300.0
    job_concurrency: int = 8  # jobs at once in one process
    job_shutdown_grace_s: float = 10.0
    # With Redis, jobs run in `bandstand worker`; this makes `serve` run them too.
    run_jobs_in_api: bool = False
    # FFmpeg jobs at once in one process, each in a process of its own (PyAV holds the GIL
    # while FFmpeg works, so threads would share one core): by default one per core.
    processing_concurrency: int = Field(default_factory=lambda: usable_cores(), ge=1)
    # A song still processing this long after its upload is queued again, at each clean-up.
    processing_stall_s: float = 1800.0
    cleanup_every_s: float = 3600.0

    # engagement: plays, likes, comments
    # A listener's plays of a song count once per window, from the last one counted.
    view_window_s: int = 30 * 60
    # Views, likes and comment counts wait in the counter store (Redis, or this process on
    # the embedded default) and reach the database in batches this often.
    counter_flush_s: float = 60.0
    counter_flush_batch: int = 2000  # counters per batch, each applied in one transaction
    # A change whose delta has not arrived this long after it was marked is taken as lost,
    # and its counter recounted from the rows: longer than a change takes to commit.
    counter_settle_s: float = 60.0
    history_days: int = 30
    history_max: int = 500
    # Comments scoring this low (VADER compound, -1..1), or using a listed word, are flagged.
    comment_flag_below: float = -0.6
    # Flagged comments wait for the song owner's approval; off: shown at once, still flagged.
    hold_flagged_comments: bool = True

    # tokens and sessions
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    refresh_reuse_grace_s: int = 10
    # argon2id parameters: OWASP's (about 30 ms a hash); "cheapest" is for the test suite.
    password_hash_cost: Literal["owasp", "cheapest"] = "owasp"  # noqa: S105 (not a password)

    # sign-up
    otp_ttl_s: int = 5 * 60
    otp_max_attempts: int = 5
    signup_ttl_s: int = 60 * 60
    # Every limit is spent before the work it guards, so parallel requests cannot slip past.
    otp_send_per_address_client: str = "3/10minutes"
    otp_send_per_address: str = "10/hour"
    otp_send_per_client: str = "20/hour"
    otp_verify_per_client: str = "30/15minutes"

    # password attempts (login, change-password, email change); a success clears the
    # attempts of that account from that client
    login_per_pair: str = "5/10minutes"
    login_per_client: str = "50/10minutes"
    login_per_account: str = "100/10minutes"

    # moderation (issue 12: helper MOD adds here)
    # How often bans whose end has passed are lifted (a ban ends at most this late).
    ban_expiry_every_s: float = 60.0
    # -- end moderation

    # limits on writes, quotas, proxies, timeouts (issue 12: helper LIMITS adds here)
    # What one user may store: their songs' originals, in bytes, and uploads a day (UTC).
    storage_quota_bytes: int = 2 * 1024**3
    uploads_per_day: int = 50
    # Every write under /api/v1 spends a budget of its family per user (the access token's)
    # and per client (address; an IPv6 client's /64), answered 429 with Retry-After when
    # spent (limits.py). "N/period": N at once, then one more each period/N. Sign-up and
    # login keep their own budgets above; logout is never refused.
    limit_likes_per_user: str = "120/minute"  # song and comment likes and unlikes
    limit_likes_per_client: str = "600/minute"
    limit_plays_per_user: str = "120/minute"  # plays and watch-history entries
    limit_plays_per_client: str = "600/minute"
    limit_comments_per_user: str = "20/minute"  # comments and replies
    limit_comments_per_client: str = "100/minute"
    limit_uploads_per_user: str = "30/hour"  # song uploads: an album at once, not a flood
    limit_uploads_per_client: str = "60/hour"
    limit_playlists_per_user: str = "30/minute"  # every playlist write
    limit_playlists_per_client: str = "150/minute"
    limit_reports_per_user: str = "20/hour"
    limit_reports_per_client: str = "60/hour"
    limit_account_per_user: str = "20/minute"  # password, profile, avatar, two-factor
    limit_account_per_client: str = "100/minute"
    limit_writes_per_user: str = "60/minute"  # every other write
    limit_writes_per_client: str = "300/minute"
    # Search is the costliest read: it is budgeted like a write.
    limit_search_per_user: str = "60/minute"
    limit_search_per_client: str = "240/minute"
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or
    # networks ("10.0.0.0/8"), comma-separated. Empty: none, not even loopback, so no
    # client can claim another's address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A request body is answered 408, and its connection closed, when it pauses longer
    # than the idle limit, or when after body_timeout_s it has not kept arriving at
    # body_min_rate bytes a second on average (a slow upload that keeps coming is fine).
    body_timeout_s: float = 30.0
    body_idle_timeout_s: float = 15.0
    body_min_rate: int = 1024
    # An idle keep-alive connection, or one that has not sent its request line and
    # headers, is closed after this long.
    header_timeout_s: float = 10.0

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    # -- end limits

    # account safety: email change, two-factor login (issue 12: helper ACCT adds here)
    # Every sign-up attempt from a client spends one, before the address is looked up: one
    # client cannot learn quickly which addresses have an account.
    signup_lookups_per_client: str = "30/hour"
    # Once otp_send_per_address is spent, a client that has had no code for that address
    # still gets this many: strangers cannot block the owner's own sign-up.
    otp_send_per_address_new_client: str = "1/hour"
    # A new email waits this long for the code sent to it; codes sent per user.
    email_change_ttl_s: int = 15 * 60
    email_change_per_user: str = "5/hour"
    email_change_per_address: str = "10/hour"
    email_confirm_per_user: str = "10/15minutes"
    # Two-factor codes (and recovery codes) checked per user, at login, enable and disable.
    totp_per_user: str = "10/10minutes"
    totp_issuer: str = "Bandstand"
    # -- end account safety

    # uploads that cannot stall the instance (issue 12: helper MEDIA adds here)
    # Listeners get at most 48 kHz stereo, so a higher rate or more channels is only work.
    # 192 kHz is the highest rate studios master at (384 kHz "DXD" files exist, for
    # editing, never for listening); 8 channels is a 7.1 surround mix. Above either, an
    # upload is refused (415) with what to export instead.
    audio_max_sample_rate: int = Field(default=192_000, ge=8_000, le=384_000)
    audio_max_channels: int = Field(default=8, ge=1, le=8)
    # What an upload may ask FFmpeg to decode: duration x sample rate x channels. The
    # default is the longest song (3 hours) at 48 kHz stereo, so whatever the rate or
    # layout, checking and processing a file decodes no more than that song does. A
    # 10-minute 192 kHz 8-channel file fits; the same at 384 kHz does not (400).
    audio_max_samples: int = Field(default=3 * 3600 * 48_000 * 2, ge=1)
    # -- end uploads

    # comments: the abuse filter, mutes (issue 12: helper COMM adds here)
    # The abuse filter's words and phrases (with comment_flag_below, above): a file of one a
    # line, in the form of the bundled comments/data/profanity.txt, which is used when unset.
    # Read again when it changes: an edit needs no restart.
    comment_word_list: Path | None = None

    @field_validator("comment_word_list")
    @classmethod
    def _word_list_is_a_file(cls, value: Path | None) -> Path | None:
        # Refused at start-up rather than at the first comment.
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    # -- end comments

    # email
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Bandstand <no-reply@bandstand.local>"
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_timeout_s: float = 10.0

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, values: dict[str, object]) -> dict[str, object]:
        origins = values.get("allowed_origins")
        if isinstance(origins, str):
            values["allowed_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return values

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        """The URL as the async drivers need it, from any spelling a host gives out
        (``postgres://`` from Heroku-style hosts, ``postgresql://`` from libpq)."""
        if not value:
            return None
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL; expected {_DATABASE_URL_FORMS}") from None
        backend, _, driver = url.drivername.partition("+")
        drivers = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg"}
        drivers["sqlite"] = "sqlite+aiosqlite"
        if backend not in drivers or driver not in {"", drivers[backend].partition("+")[2]}:
            raise ValueError(
                f"unsupported database {url.drivername!r}; expected {_DATABASE_URL_FORMS}"
            )
        if backend == "sqlite":
            if url.database in {None, "", ":memory:"} or url.query.get("mode") == "memory":
                raise ValueError(
                    "an in-memory SQLite database is not shared between processes and "
                    "is gone at exit; give a file: sqlite:///path/to/file.db"
                )
        else:
            url = _asyncpg_query(url)
        return url.set(drivername=drivers[backend]).render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _cheapest_hashes_only_in_tests(self) -> Settings:
        # At login a stored hash of another cost is made again at this one: "cheapest"
        # outside the test suite would weaken every password that logs in.
        if self.password_hash_cost == "cheapest" and self.env != "test":  # noqa: S105
            raise ValueError(
                "BANDSTAND_PASSWORD_HASH_COST=cheapest is for the test suite only "
                "(BANDSTAND_ENV=test)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(secret) < 32:
                raise ValueError(
                    "BANDSTAND_SECRET_KEY must be set to a random value of at least "
                    "32 characters when BANDSTAND_ENV=production"
                )
        return self

    @model_validator(mode="after")
    def _metrics_need_a_token(self) -> Settings:
        token = self.metrics_token.get_secret_value() if self.metrics_token else ""
        if self.metrics_enabled and len(token) < 16:
            raise ValueError(
                "BANDSTAND_METRICS_ENABLED needs BANDSTAND_METRICS_TOKEN, a random value of "
                "at least 16 characters (the scraper sends it as a bearer token)"
            )
        return self

    def signing_secret(self) -> str:
        """The configured secret, or the data dir's own random one (made on first use)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'bandstand.db').resolve()}"

    @property
    def is_embedded_database(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded database's file (locked with the data folder), None on PostgreSQL."""
        if not self.is_embedded_database:
            return None
        return Path(make_url(self.effective_database_url).database or "")

    @property
    def scratch_dir(self) -> Path:
        """Uploads being checked and jobs' working files; nothing here outlives a request
        or a job."""
        return self.data_dir / "tmp"

    @property
    def metrics_folder(self) -> Path:
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def origins(self) -> list[str]:
        """The origins allowed to make cookie-authenticated writes: our own and the list."""
        own = self.public_url.rstrip("/")
        return [own, *(o.rstrip("/") for o in self.allowed_origins)]
