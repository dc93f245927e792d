"""kit/keys: the one derivation of purpose keys from the signing secret.

The expected keys were produced by the derivation this module replaced (TokenSigner's own):
a key already handed out — the media proxy's, stored one-time code hashes — must not change.
"""

from __future__ import annotations

import pytest

from bandstand.accounts.tokens import TokenSigner
from bandstand.config import Settings
from bandstand.kit.keys import Keys, derive_key
from bandstand.kit.signing import media_url_key
from bandstand.media.proxy import nginx_config

pytestmark = pytest.mark.backend_free

SECRET = "s3cret-for-the-test-only"
MEDIA = "bdaac44fbf175b23e486a069aa4c7398179fb90df9acf873911c389593fcd5a9"
OTP = "511132c615d4008c0fb76526f5f60383f2f34bccc1d4c97893b4815435934d0a"


def test_keys_are_the_old_ones() -> None:
    assert derive_key(SECRET, "media-url").hex() == MEDIA
    assert derive_key(SECRET, "otp").hex() == OTP
    assert Keys(SECRET)("otp").hex() == OTP


def test_every_user_derives_the_same_key() -> None:
    assert TokenSigner(SECRET).key("media-url") == media_url_key(SECRET)
    assert TokenSigner(SECRET).key("otp").hex() == OTP


def test_purposes_have_different_keys() -> None:
    keys = Keys(SECRET)
    assert len({keys(p) for p in ("access", "refresh", "signup", "device", "otp")}) == 5
    assert Keys("another-secret-entirely")("otp") != keys("otp")


def test_the_proxy_checks_links_with_the_apps_key() -> None:
    settings = Settings(secret_key=SECRET)
    config = nginx_config(settings, listen="8080", upstream="127.0.0.1:8000")
    assert MEDIA in config
