"""Every ORM model, one file per table. Importing this package registers them all."""

from bandstand.models.base import Base
from bandstand.models.counter import Counter
from bandstand.models.login_session import LoginSession, RefreshToken
from bandstand.models.pending_signup import PendingSignup
from bandstand.models.song import Song, SongStatus
from bandstand.models.song_waveform import SongWaveform
from bandstand.models.user import Role, User

__all__ = [
    "Base",
    "Counter",
    "LoginSession",
    "PendingSignup",
    "RefreshToken",
    "Role",
    "Song",
    "SongStatus",
    "SongWaveform",
    "User",
]
