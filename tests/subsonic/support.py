"""What the /rest tests share: listeners with app passwords, catalogue rows made directly,
the real client (py-opensonic) connected to the served app, and raw calls whose XML is
validated against the schema (``subsonic-rest-api.xsd``)."""

from __future__ import annotations

import contextlib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import xmlschema
from libopensonic import AsyncConnection

from bandstand.db import transaction
from bandstand.kit.ids import new_id
from bandstand.kit.time import utcnow
from bandstand.models import Release, Song, SongStatus
from bandstand.storage import new_key
from tests.conftest import Harness, bearer
from tests.songs.support import Artist

REST = "/rest"
APP_PASSWORDS = "/api/v1/users/app-passwords"
NS = "{http://subsonic.org/restapi}"
SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("subsonic-rest-api.xsd"))


@dataclass
class Listener:
    """A user with an app password: what they would type into a music app."""

    who: Artist
    secret: str
    key_id: str

    @property
    def id(self) -> str:
        return self.who.id

    @property
    def username(self) -> str:
        return str(self.who.user["username"])

    @property
    def auth(self) -> dict[str, str]:
        """Plain ``u`` + ``p`` parameters."""
        return {"u": self.username, "p": self.secret}


async def made_app_password(who: Artist, name: str = "My phone") -> dict[str, Any]:
    response = await who.client.post(APP_PASSWORDS, json={"name": name}, headers=who.auth)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def listener(
    harness: Harness, username: str = "janedoe", fullname: str = "Jane Doe"
) -> Listener:
    """A signed-up user (rows made directly) with an app password made through the API."""
    user = await harness.sign_up(
        email_address=f"{username}@example.com", username=username, fullname=fullname
    )
    tokens = await harness.tokens(user)
    who = Artist(user=user, auth=bearer(tokens["accessToken"]), client=harness.client())
    made = await made_app_password(who)
    return Listener(who, made["secret"], made["_id"])


async def a_release(
    harness: Harness,
    owner: str,
    title: str = "Night Drive",
    *,
    kind: str = "album",
    year: int | None = 2024,
    cover: str | None = None,
) -> str:
    """A release row of ``owner``'s (the releases API has tests of its own)."""
    runtime = harness.app.state.runtime
    async with transaction(runtime.sessionmaker) as session:
        release = Release(
            id=new_id(),
            owner_id=uuid.UUID(owner),
            title=title,
            kind=kind,
            year=year,
            thumbnail_key=cover,
        )
        session.add(release)
    return str(release.id)


async def a_song(
    harness: Harness,
    owner: str,
    title: str = "A song",
    *,
    release: str | None = None,
    track: int | None = None,
    genre: str | None = None,
    tag_artist: str | None = None,
    duration: float = 181.6,
    bitrate: int = 320_000,
    fmt: str = "mp3",
    size: int = 7_000_000,
    gain: float | None = None,
    peak: float | None = None,
    created: datetime | None = None,
) -> str:
    """A song row of ``owner``'s, ready, with made-up file keys: what /rest shows of a song
    comes from its row (one real upload is proven end to end in test_browsing)."""
    runtime = harness.app.state.runtime
    folder = uuid.uuid4().hex
    async with transaction(runtime.sessionmaker) as session:
        song = Song(
            id=new_id(),
            owner_id=uuid.UUID(owner),
            title=title,
            genre=genre,
            artist=tag_artist,
            duration=duration,
            codec="mp3",
            sample_rate=44_100,
            channels=2,
            bitrate=bitrate,
            audio_key=f"songs/{folder}/original.{fmt}",
            audio_format=fmt,
            audio_size=size,
            thumbnail_key=new_key("covers", "webp", "640"),
            status=SongStatus.READY,
            gain_db=gain,
            true_peak_dbtp=peak,
            release_id=uuid.UUID(release) if release else None,
            track=track,
            created_at=created or utcnow(),
        )
        session.add(song)
    return str(song.id)


def db_id(harness: Harness, ident: str) -> Any:
    """An id as raw SQL compares it: SQLite keeps UUIDs as 32 hex digits."""
    value = uuid.UUID(ident)
    return value.hex if harness.settings.is_embedded_database else value


async def set_column(harness: Harness, table: str, column: str, ident: str, on: bool) -> None:
    """Set (now) or clear a moderation column (``banned_at``, ``taken_down_at``), as the
    moderation routes do (they have tests of their own)."""
    value = "CURRENT_TIMESTAMP" if on else "NULL"
    await harness.sql(
        f"UPDATE {table} SET {column} = {value} WHERE id = :id", id=db_id(harness, ident)
    )


@contextlib.asynccontextmanager
async def connected(
    site: str,
    username: str | None = None,
    password: str | None = None,
    *,
    api_key: str | None = None,
    legacy_auth: bool = False,
    use_get: bool = False,
    use_views: bool = True,
) -> AsyncIterator[AsyncConnection]:
    """The real client, connected to the served app: by default it POSTs a form body
    (formPost) to ``<method>.view`` with a token and salt (``t`` + ``s``); ``legacy_auth``
    sends ``p=enc:<hex>``, ``api_key`` an ``apiKey``."""
    host, port = site.rsplit(":", 1)
    connection = AsyncConnection(
        f"http://{host}",
        username,
        password,
        port=int(port),
        api_key=api_key,
        app_name="bandstand-tests",
        legacy_auth=legacy_auth,
        use_get=use_get,
        use_views=use_views,
    )
    try:
        yield connection
    finally:
        await connection.cleanup()


async def raw(connection: AsyncConnection, method: str, **query: Any) -> dict[str, Any]:
    """A method the client has no (working) wrapper for, through the client's own request
    and answer handling (its credentials, its formPost, its error codes)."""
    response = await connection._do_request(method, query)
    answer: dict[str, Any] = await connection._handle_info_res(response)
    return answer


async def xml(client: httpx.AsyncClient, method: str, **params: Any) -> ET.Element:
    """``/rest/<method>`` answered in XML (the default), valid against the schema: its
    root element."""
    response = await client.get(f"{REST}/{method}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    SCHEMA.validate(response.text)
    return ET.fromstring(response.content)  # noqa: S314 - our own server's answer


async def json(client: httpx.AsyncClient, method: str, **params: Any) -> dict[str, Any]:
    """``/rest/<method>`` with ``f=json``: the inside of ``subsonic-response``."""
    response = await client.get(f"{REST}/{method}", params={**params, "f": "json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["subsonic-response"]
    return body


def error_of(answer: dict[str, Any]) -> tuple[int, str]:
    """A ``failed`` answer's code and message."""
    assert answer["status"] == "failed", answer
    return int(answer["error"]["code"]), str(answer["error"]["message"])


def xml_error(root: ET.Element) -> tuple[int, str]:
    assert root.get("status") == "failed", ET.tostring(root)
    error = root.find(f"{NS}error")
    assert error is not None
    return int(error.get("code", "-1")), error.get("message", "")
