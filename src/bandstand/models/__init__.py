"""Every ORM model, one file per table. Importing this package registers them all."""

from bandstand.models.app_password import AppPassword
from bandstand.models.audit_entry import AuditEntry
from bandstand.models.base import Base
from bandstand.models.comment import Comment
from bandstand.models.comment_like import CommentLike
from bandstand.models.counter import Counter
from bandstand.models.counter_batch import CounterBatch
from bandstand.models.email_change import EmailChange
from bandstand.models.job import PendingJob
from bandstand.models.login_session import LoginSession, RefreshToken
from bandstand.models.mute import Mute
from bandstand.models.now_playing import NowPlaying
from bandstand.models.pending_signup import PendingSignup
from bandstand.models.play import Play
from bandstand.models.playlist import Playlist
from bandstand.models.playlist_song import PlaylistSong
from bandstand.models.recovery_code import RecoveryCode
from bandstand.models.release import Release, ReleaseKind
from bandstand.models.report import (
    Report,
    ReportAction,
    ReportReason,
    ReportStatus,
    TargetType,
)
from bandstand.models.song import Song, SongStatus
from bandstand.models.song_daily import SongDaily
from bandstand.models.song_like import SongLike
from bandstand.models.song_rating import SongRating
from bandstand.models.song_stats import SongStats
from bandstand.models.song_waveform import SongWaveform
from bandstand.models.user import Role, User
from bandstand.models.watch_entry import WatchEntry

__all__ = [
    "AppPassword",
    "AuditEntry",
    "Base",
    "Comment",
    "CommentLike",
    "Counter",
    "CounterBatch",
    "EmailChange",
    "LoginSession",
    "Mute",
    "NowPlaying",
    "PendingJob",
    "PendingSignup",
    "Play",
    "Playlist",
    "PlaylistSong",
    "RecoveryCode",
    "RefreshToken",
    "Release",
    "ReleaseKind",
    "Report",
    "ReportAction",
    "ReportReason",
    "ReportStatus",
    "Role",
    "Song",
    "SongDaily",
    "SongLike",
    "SongRating",
    "SongStats",
    "SongStatus",
    "SongWaveform",
    "TargetType",
    "User",
    "WatchEntry",
]
