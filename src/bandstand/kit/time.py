from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Bandstand stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp(moment: datetime) -> str:
    """A UTC moment as every answer writes it (ISO 8601 with ``Z``, as the schemas
    serialise it)."""
    return moment.isoformat().replace("+00:00", "Z")
