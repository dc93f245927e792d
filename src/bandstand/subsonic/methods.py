"""Every module of ``/rest`` methods, imported for the methods it registers
(``registry.method``). A new module of methods is one line here."""

import bandstand.subsonic.annotation
import bandstand.subsonic.browsing
import bandstand.subsonic.lists
import bandstand.subsonic.media
import bandstand.subsonic.playlists
import bandstand.subsonic.searching
import bandstand.subsonic.system  # noqa: F401
