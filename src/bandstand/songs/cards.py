"""What lists read of a song: shared by every domain that lists songs (the catalogue,
liked songs, history, playlists), so each card is the same and ``songs.views.card_view``
can render any of them."""

from __future__ import annotations

from bandstand.models import Song, SongStats, User
from bandstand.models.song import stat

# A song as lists show it: its own columns and its owner's public summary, flat, read by
# Core without building ORM objects (the catalogue is the busiest read).
CARD_COLUMNS = (
    *Song.__table__.c,
    stat(SongStats.views).label("views"),
    stat(SongStats.like_count).label("like_count"),
    stat(SongStats.comment_count).label("comment_count"),
    User.username.label("owner_username"),
    User.fullname.label("owner_fullname"),
    User.avatar_key.label("owner_avatar_key"),
)
