"""A backup restored into an empty installation gives everything back, on either backend,
even when it was taken while listeners kept liking songs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bandstand.config import Settings
from bandstand.engagement.counters.flush import flush_counters
from bandstand.operations.backup import back_up
from bandstand.operations.restore import restore
from tests.conftest import Harness
from tests.engagement.support import a_song, listeners
from tests.ops.support import counters_and_truth, media, rows
from tests.songs.support import artist

SONGS = "/api/v1/songs"


async def test_every_row_and_file_comes_back(
    make_harness: Any, empty_installation: Settings, tmp_path: Path
) -> None:
    harness: Harness = await make_harness()
    runtime = harness.app.state.runtime
    owner = await artist(harness, "owner")
    song = await a_song(harness, owner)
    fans = await listeners(harness, 2)
    for fan in fans:
        liked = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
        assert liked.status_code == 200, liked.text
    said = await fans[0].client.post(
        f"/api/v1/comments/{song['_id']}", json={"content": "Lovely song"}, headers=fans[0].auth
    )
    assert said.status_code == 201, said.text
    made = await owner.client.post(
        "/api/v1/playlist/", json={"playlist_name": "Road trip"}, headers=owner.auth
    )
    assert made.status_code == 201, made.text
    added = await owner.client.post(
        f"/api/v1/playlist/{made.json()['data']['_id']}/addSongs",
        json={"songIds": [song["_id"]]},
        headers=owner.auth,
    )
    assert added.status_code == 200, added.text
    await harness.settle()
    await flush_counters(runtime)  # so that the source's counters compare too

    manifest = await back_up(harness.settings, runtime.storage, tmp_path / "backup")
    assert manifest.counts == {"users": 3, "songs": 1, "likes": 2, "comments": 1, "playlists": 1}
    await restore(empty_installation, tmp_path / "backup")

    source, restored = await rows(harness.settings), await rows(empty_installation)
    assert restored == source
    assert restored["playlist_songs"] and restored["song_likes"] and restored["users"]
    source_media = await media(harness.settings)
    assert len(source_media) > 5  # the original, its renditions, the cover, avatars
    assert await media(empty_installation) == source_media
    assert all(
        counter == truth for _, counter, truth in await counters_and_truth(empty_installation)
    )


async def test_a_backup_during_a_like_storm_restores_counters_equal_to_their_truth(
    make_harness: Any, empty_installation: Settings, tmp_path: Path
) -> None:
    harness: Harness = await make_harness()
    owner = await artist(harness, "owner")
    songs = [await a_song(harness, owner, title=f"Song {n}") for n in range(2)]
    fans = await listeners(harness, 12)

    async def like(fan: Any, song: dict[str, Any]) -> None:
        response = await fan.client.post(f"{SONGS}/{song['_id']}/like", headers=fan.auth)
        assert response.status_code == 200, response.text

    for fan in fans[:3]:  # in the copy for sure, their counts still on their way
        await like(fan, songs[0])
    storm = [like(fan, song) for fan in fans[3:] for song in songs]
    backup = asyncio.create_task(
        back_up(harness.settings, harness.app.state.runtime.storage, tmp_path / "backup")
    )
    await asyncio.gather(*storm)
    manifest = await backup
    assert manifest.counts["likes"] >= 3

    await restore(empty_installation, tmp_path / "backup")
    restored = await counters_and_truth(empty_installation)
    assert sum(truth for _, _, truth in restored) == manifest.counts["likes"]
    assert all(counter == truth for _, counter, truth in restored), restored
