// nginx (njs) side of Bandstand's signed media links: the same check as
// bandstand/kit/signing.py, so the proxy serves a song's files without asking the API.
// A link is /api/v1/media/<expires>/<signature>/songs/<32 hex>/<name>.<ext>; the signature
// is the first 20 bytes of HMAC-SHA256(key, "/songs/<32 hex>/\n<expires>"), base64url.
const crypto = require('crypto');

const LINK = /^\/api\/v1\/media\/([1-9][0-9]{0,11})\/([A-Za-z0-9_-]{27})\/(songs\/[0-9a-f]{32}\/)[a-z0-9_-]{1,40}\.[a-z0-9]{1,5}$/;

function same(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
        diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return diff === 0;
}

function verify(r) {
    const link = LINK.exec(r.uri);
    if (link === null || Number(link[1]) < Date.now() / 1000) {
        return '0';
    }
    const key = Buffer.from(r.variables.bandstand_media_key, 'hex');
    const mac = crypto.createHmac('sha256', key)
        .update('/' + link[3] + '\n' + link[1])
        .digest()
        .slice(0, 20)
        .toString('base64url');
    return same(mac, link[2]) ? '1' : '0';
}

export default { verify };
