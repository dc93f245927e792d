#!/bin/sh
# Writes nginx's site for Bandstand into FOLDER: `bandstand proxy-config` for this
# installation's key and media folder, and the njs script it imports, copied beside it so
# that nginx (another container, without Bandstand installed) can read it.
#   PROXY_LISTEN (default 80)  PROXY_UPSTREAM (default api:8000)  PROXY_SERVER_NAME (_)
# The compose stack runs it as its one-shot proxy-config service; the production-layout
# test runs it too (tests/deploy/test_production_layout.py).
set -eu
folder=${1:?usage: write-site.sh FOLDER}
mkdir -p "$folder"
umask 077
script=$(python -c 'from bandstand.media.proxy import media_script; print(media_script())')
cp "$script" "$folder/media_links.js"
bandstand proxy-config --listen "${PROXY_LISTEN:-80}" --upstream "${PROXY_UPSTREAM:-api:8000}" \
    --server-name "${PROXY_SERVER_NAME:-_}" > "$folder/bandstand.conf.new"
# The script's path inside this image means nothing to nginx: point at the copy.
sed -i "s#^js_import bandstand_media from .*;\$#js_import bandstand_media from $folder/media_links.js;#" \
    "$folder/bandstand.conf.new"
grep -q "^js_import bandstand_media from $folder/media_links.js;\$" "$folder/bandstand.conf.new"
mv "$folder/bandstand.conf.new" "$folder/bandstand.conf"
