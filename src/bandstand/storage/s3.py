"""Media in an S3-compatible object store: AWS S3, MinIO, Ceph, Garage ..."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
import structlog
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from bandstand.config import Settings
from bandstand.errors import ServiceUnavailable
from bandstand.storage import StorageError, check_key

log = structlog.get_logger(__name__)

T = TypeVar("T")

_MISSING = {"404", "NoSuchKey", "NotFound"}
# The store out of reach or overloaded (after boto3's own retries): the request was fine
# and may succeed shortly. BotoConnectionError covers EndpointConnectionError and
# ConnectTimeoutError.
_UNREACHABLE = (BotoConnectionError, ReadTimeoutError, ConnectionClosedError)
_OVERLOADED = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


class StorageUnavailable(ServiceUnavailable, StorageError):
    """The object store cannot be reached now: a 503 with Retry-After to a request, and
    still a StorageError to a job (which retries it later)."""


def _out_of_reach(exc: BaseException) -> bool:
    """Whether ``exc`` (or what boto3 wrapped in it) says the store is down or overloaded,
    not that the request was wrong."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, ClientError):
            error = current.response.get("Error", {})
            status = current.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return error.get("Code") in _OVERLOADED or int(status or 0) >= 500
        current = current.__cause__ or current.__context__
    return False


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; the prefix may be empty."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    prefix = parts.path.strip("/")
    if prefix and any(part in {"", ".", ".."} for part in prefix.split("/")):
        raise ValueError(f"bad prefix in storage URL: {url!r}")
    return parts.netloc, prefix


_SESSION_LOCK = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    """The process's one boto3 session. A session reads botocore's descriptions (the
    endpoints, the S3 API: a megabyte of JSON) and keeps them: a new one per store read
    them all again, a fifth of a second of CPU for every store built (a runtime started
    again, a command). Clients are thread-safe, sessions are not: make clients under
    ``_SESSION_LOCK``."""
    return boto3.session.Session()


class S3Storage:
    """Objects in one bucket under an optional prefix; the boto3 client runs in threads."""

    def __init__(self, client: Any, bucket: str, prefix: str, base_url: str) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, media_url: str) -> S3Storage:
        if not settings.storage_url:
            raise ValueError("BANDSTAND_STORAGE_URL is not set")
        bucket, prefix = split_url(settings.storage_url)
        if (settings.s3_access_key is None) != (settings.s3_secret_key is None):
            raise ValueError(
                "set both BANDSTAND_S3_ACCESS_KEY and BANDSTAND_S3_SECRET_KEY, or neither"
            )
        custom_endpoint = settings.s3_endpoint_url is not None
        config = Config(
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 4},
            # MinIO, moto and most self-hosted stores don't resolve bucket subdomains.
            s3={"addressing_style": "path" if custom_endpoint else "auto"},
            # Several S3-compatible stores refuse the CRC checksums boto3 adds by default.
            request_checksum_calculation="when_required" if custom_endpoint else "when_supported",
            response_checksum_validation="when_required" if custom_endpoint else "when_supported",
        )
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        # Without keys, boto3's own chain applies (instance role, web identity ...).
        with _SESSION_LOCK:
            client = _session().client(
                "s3",
                endpoint_url=settings.s3_endpoint_url,
                region_name=settings.s3_region,
                aws_access_key_id=settings.s3_access_key,
                aws_secret_access_key=secret,
                config=config,
            )
        return cls(client, bucket, prefix, media_url)

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _run(self, action: str, key: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            said = f"{action} s3://{self.bucket}/{key} failed: {exc}"
            if _out_of_reach(exc):
                log.warning("dependency_unavailable", dependency="the object store", error=said)
                raise StorageUnavailable() from exc
            raise StorageError(said) from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._name(key)
        await self._run(
            "put",
            name,
            lambda: self._client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            ),
        )

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        name = self._name(key)
        await self._run(
            "put",
            name,
            lambda: self._client.upload_file(
                str(path), self.bucket, name, ExtraArgs={"ContentType": content_type}
            ),
        )

    async def get(self, key: str) -> bytes:
        name = self._name(key)

        def read() -> bytes:
            try:
                body: bytes = self._client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                    raise FileNotFoundError(key) from exc
                raise
            return body

        return await self._run("get", name, read)

    async def get_file(self, key: str, target: Path) -> None:
        name = self._name(key)
        await self._run(
            "get", name, lambda: self._client.download_file(self.bucket, name, str(target))
        )

    async def delete(self, key: str) -> None:
        # S3 answers 204 for a key that is not there, which is what we want.
        name = self._name(key)
        await self._run(
            "delete", name, lambda: self._client.delete_object(Bucket=self.bucket, Key=name)
        )

    async def exists(self, key: str) -> bool:
        name = self._name(key)
        return await self._run("head", name, lambda: self._head(name))

    async def keys(self, prefix: str = "") -> list[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        return await self._run("list", root + prefix, lambda: self._list(root, prefix))

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    async def presigned_url(
        self, key: str, ttl_s: int, content_type: str, *, head: bool = False
    ) -> str | None:
        name = self._name(key)
        params = {"Bucket": self.bucket, "Key": name, "ResponseContentType": content_type}
        operation = "head_object" if head else "get_object"
        url: str = await self._run(
            "sign",
            name,
            lambda: self._client.generate_presigned_url(operation, Params=params, ExpiresIn=ttl_s),
        )
        return url

    def _head(self, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return False
            raise
        return True

    def _list(self, root: str, prefix: str) -> list[str]:
        found: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root + prefix
        )
        for page in pages:
            found.extend(item["Key"][len(root) :] for item in page.get("Contents", []))
        return sorted(found)
