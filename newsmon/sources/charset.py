"""Decode a fetched HTML page to text when its declared charset may be missing, wrong or a lie.

Order: a byte-order mark; else the bytes as UTF-8 if they are valid UTF-8 (non-ASCII text in a
legacy charset is almost never valid UTF-8, so this is safe and it repairs the common lie of a
UTF-8 page still labelled ISO-8859-1); else the charset the Content-Type header declares, else
a <meta charset> near the top; else windows-1252, the WHATWG default for unlabelled pages.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)",
                           re.IGNORECASE)
_META_WINDOW = 4096  # browsers look for the meta charset in the first 1024 bytes; be lenient
# WHATWG Encoding: these labels mean windows-1252 in practice (0x80-0x9F are punctuation, not
# the C1 controls Python's latin-1 would give).
_WINDOWS_1252 = frozenset({
    "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "us-ascii", "ascii",
    "cp819", "ibm819", "windows-1252", "cp1252",
})


def _codec(label: str) -> str | None:
    """Return the Python codec for a charset label, or None when Python does not know it."""
    label = label.strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str = "") -> str | None:
    """Return the codec the Content-Type header, else a <meta> tag, declares (None if neither)."""
    match = _HEADER_CHARSET.search(content_type or "")
    if match and (codec := _codec(match.group(1))):
        return codec
    meta = _META_CHARSET.search(body[:_META_WINDOW])
    if meta:
        return _codec(meta.group(1).decode("ascii", "replace"))
    return None


def decode_html(body: bytes, content_type: str = "") -> str:
    """Return the page as text: BOM, else valid UTF-8, else the declared charset, else cp1252."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = declared_charset(body, content_type)
    # A page that declares UTF-8 but is not (the other common lie) gets the legacy default.
    if codec is None or codec == "utf-8":
        codec = "cp1252"
    return body.decode(codec, errors="replace")
