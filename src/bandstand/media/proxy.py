"""The nginx configuration that serves Bandstand in production: media straight from disk
(signed links checked by nginx itself, with the njs module), everything else proxied."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bandstand.config import Settings
from bandstand.kit.signing import media_url_key
from bandstand.media.links import CONTENT_TYPES

TEMPLATE = """\
# Bandstand behind nginx, written by `bandstand proxy-config`. It belongs in the http {{}}
# context (Debian: /etc/nginx/conf.d/bandstand.conf) and needs the njs module (Debian:
# libnginx-mod-http-js). It holds the key that signs media links: keep it readable by
# root only, as the API's own secret is.
js_import bandstand_media from {script};
js_set $bandstand_media_ok bandstand_media.verify;

upstream bandstand_api {{
    server {upstream};
    keepalive 64;
}}

server {{
    listen {listen};
    server_name {server_name};
    server_tokens off;
    client_max_body_size {max_body};
    set $bandstand_media_key "{media_key}";

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;

    # A song's files by signed link: checked here and sent from disk by sendfile.
    location ~ "{song_link}" {{
        if ($bandstand_media_ok != "1") {{
            return 403;
        }}
        error_page 403 = @bandstand_forbidden;
        # Taken down or its owner banned since the link was signed (media/withheld.py):
        # the API decides, which plays it to its owner alone.
        if (-f {media_root}/withheld/$bandstand_song) {{
            return 418;
        }}
        error_page 418 = @bandstand_api;
        alias {media_root}/$1;
        types {{
{types}
        }}
        error_page 404 = @bandstand_not_found;
        add_header Cache-Control "private, max-age=3600";
        add_header X-Content-Type-Options nosniff;
    }}

    # What the API hands over with X-Accel-Redirect (BANDSTAND_MEDIA_OFFLOAD=true).
    location {accel_prefix} {{
        internal;
        alias {media_root}/;
        types {{
{types}
        }}
        add_header X-Content-Type-Options nosniff;
    }}

    # Avatars and covers are public and never change under one name; the cover of a
    # song withheld (above) is the API's to answer.
    location ~ "{image_link}" {{
        if (-f {media_root}/withheld/cover-$bandstand_image) {{
            return 418;
        }}
        error_page 418 = @bandstand_api;
        alias {media_root}/$1;
        types {{ image/webp webp; }}
        error_page 404 = @bandstand_not_found;
        add_header Cache-Control "public, max-age=31536000, immutable";
        add_header X-Content-Type-Options nosniff;
    }}

    # nginx's own answers in the API's envelope, typed as JSON whatever the URI's extension.
    location @bandstand_forbidden {{
        types {{ }}
        default_type application/json;
        add_header X-Content-Type-Options nosniff always;
        return 403 '{forbidden}';
    }}

    location @bandstand_not_found {{
        types {{ }}
        default_type application/json;
        add_header X-Content-Type-Options nosniff always;
        return 404 '{not_found}';
    }}

    location @bandstand_api {{
        proxy_pass http://bandstand_api;
    }}

    location / {{
        proxy_pass http://bandstand_api;
        # Uploads stream on to the API, which refuses them early and spools them itself.
        proxy_request_buffering off;
    }}
}}
"""


def _envelope(status: int, message: str) -> str:
    return (
        f'{{"statusCode":{status},"data":null,"message":"{message}","success":false,"errors":[]}}'
    )


def _song_link() -> str:
    """A signed link to a song's file; $1 is its key, $bandstand_song its folder."""
    extensions = "|".join(sorted(CONTENT_TYPES))
    folder = "(?<bandstand_song>[0-9a-f]{32})"
    return rf"^/api/v1/media/[0-9]+/[A-Za-z0-9_-]+/(songs/{folder}/[a-z0-9_-]+\.({extensions}))$"


def media_script() -> Path:
    """The njs script that checks signed media links (shipped inside the package)."""
    return Path(str(resources.files("bandstand").joinpath("media/nginx/media_links.js")))


def nginx_config(settings: Settings, *, listen: str, upstream: str, server_name: str = "_") -> str:
    """The configuration for this installation's key, media folder and API address."""
    if settings.storage_url:
        raise ValueError("media on S3 are sent by presigned redirects; no proxy rules needed")
    media_key = media_url_key(settings.signing_secret()).hex()
    types = "\n".join(
        f"            {content_type} {extension};"
        for extension, content_type in sorted(CONTENT_TYPES.items())
    )
    max_body_mb = (settings.audio_max_bytes + settings.image_max_bytes) // 2**20 + 2
    return TEMPLATE.format(
        script=media_script(),
        upstream=upstream,
        listen=listen,
        server_name=server_name,
        max_body=f"{max_body_mb}m",
        media_key=media_key,
        song_link=_song_link(),
        image_link=r"^/media/((avatars|covers)/(?<bandstand_image>[0-9a-f]{32})(/[0-9]{1,4})?\.webp)$",
        media_root=settings.media_dir.resolve(),
        types=types,
        accel_prefix=settings.accel_redirect_prefix,
        forbidden=_envelope(403, "This link is invalid or has expired."),
        not_found=_envelope(404, "Media not found."),
    )
