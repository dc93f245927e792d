"""The system and user methods: ``ping``, ``getLicense``, ``getOpenSubsonicExtensions``,
``tokenInfo``, ``getUser``, ``getMusicFolders``, ``getScanStatus`` and ``startScan``.

Bandstand has no library to scan: songs are processed as they are uploaded, so a scan is
never running and ``startScan`` answers the status as it is.
"""

from __future__ import annotations

from typing import Any

from bandstand.models import Role
from bandstand.subsonic import mapping
from bandstand.subsonic import repository as repo
from bandstand.subsonic.errors import NotAuthorized, NotFound
from bandstand.subsonic.registry import Call, extension, extensions, method
from bandstand.subsonic.render import Payload

# What the transport and the authentication here implement (router.py, auth.py).
extension("apiKeyAuthentication", 1)
extension("formPost", 1)


@method("ping")
async def ping(call: Call) -> Payload:
    return {}


@method("getLicense")
async def get_license(call: Call) -> Payload:
    """Free software: the licence is always valid."""
    return {"license": {"valid": True}}


@method("getOpenSubsonicExtensions", auth=False)
async def get_open_subsonic_extensions(call: Call) -> Payload:
    """Answered without credentials: apps ask before they know how to log in."""
    return {
        "openSubsonicExtensions": [
            {"name": name, "versions": versions} for name, versions in extensions().items()
        ]
    }


@method("tokenInfo")
async def token_info(call: Call) -> Payload:
    """Whose the API key (or the credentials) is."""
    return {"tokenInfo": {"username": call.me.username}}


def _user(username: str, email: str | None, role: str) -> dict[str, Any]:
    """A user as Subsonic's ``user``: what an app may do here. Listening, playlists,
    stars and downloads are everyone's; uploading, sharing, podcasts and the jukebox are
    not offered through ``/rest``. ``email`` only for the user's own."""
    return {
        "username": username,
        "email": email,
        "scrobblingEnabled": True,
        "adminRole": role == Role.ADMIN,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": True,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [mapping.FOLDER_ID],
    }


@method("getUser")
async def get_user(call: Call) -> Payload:
    """The caller's own user; an admin may ask for anyone's (never their email)."""
    me = call.me
    wanted = call.params.text("username", max_length=254, required=True) or ""
    if wanted.strip().lower() == me.username.lower():
        return {"user": _user(me.username, me.email, me.role)}
    if not me.is_admin:
        raise NotAuthorized("You may only get your own user.")
    found = await repo.user_named(call.session, wanted)
    if found is None:
        raise NotFound("User not found.")
    return {"user": _user(found.username, None, found.role)}


@method("getMusicFolders")
async def get_music_folders(call: Call) -> Payload:
    """One folder: everything the caller may hear is in it."""
    folder = {"id": mapping.FOLDER_ID, "name": mapping.FOLDER_NAME}
    return {"musicFolders": {"musicFolder": [folder]}}


async def _scan_status(call: Call) -> Payload:
    count = await repo.song_count(call.session, call.me.user_id)
    return {"scanStatus": {"scanning": False, "count": count}}


@method("getScanStatus")
async def get_scan_status(call: Call) -> Payload:
    """Never scanning; ``count`` is the songs the caller may hear."""
    return await _scan_status(call)


@method("startScan")
async def start_scan(call: Call) -> Payload:
    """Nothing to scan (uploads are processed as they come): the status as it is."""
    return await _scan_status(call)
