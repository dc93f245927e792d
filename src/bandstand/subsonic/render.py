"""One answer, two formats: a method returns plain Python (dicts, lists, scalars) and this
module writes it as the ``subsonic-response`` in JSON (``f=json``) or XML (the default).

The shape is the Subsonic one, where JSON mirrors the XML:

* a dict is an element: its scalar items are attributes, its dicts child elements, its
  lists repeated child elements named by the key (``{"song": [a, b]}`` is two ``<song>``);
* a list of scalars is repeated elements holding text (``{"folder": [1]}`` is
  ``<folder>1</folder>``);
* the key ``value`` is the element's text (``<genre songCount="3">Rock</genre>`` is
  ``{"songCount": 3, "value": "Rock"}``), as Subsonic's own JSON writes it;
* ``None`` is left out; booleans are ``true``/``false``; datetimes are ISO 8601 in UTC
  with ``Z``.

XML children come in the order the dict holds them: the schema's sequences decide it
(``mapping.py`` builds its dicts in that order; tests/subsonic validates against the XSD).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from bandstand import __version__
from bandstand.kit.time import as_utc, timestamp

NAMESPACE = "http://subsonic.org/restapi"
API_VERSION = "1.16.1"
SERVER_TYPE = "bandstand"
JSON_TYPE = "application/json"
XML_TYPE = "text/xml; charset=utf-8"

Payload = dict[str, Any]


class Format(Enum):
    """What the caller asked the answer in (``f``): JSON, or XML (the default)."""

    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return JSON_TYPE if self is Format.JSON else XML_TYPE


def format_of(value: str | None) -> Format:
    return Format.JSON if (value or "").strip().lower() == "json" else Format.XML


# Characters XML 1.0 cannot carry at all, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def envelope(status: str, payload: Mapping[str, Any]) -> Payload:
    """The ``subsonic-response`` around a method's answer (or an ``error``)."""
    return {
        "status": status,
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": __version__,
        "openSubsonic": True,
        **payload,
    }


def _scalar(value: Any) -> Any:
    """A scalar as JSON has it."""
    if isinstance(value, datetime):
        return timestamp(as_utc(value))
    return value


def _jsonable(value: Any) -> Any:
    # By exact type first: this walks every value of every answer, and the answers are
    # plain dicts, lists and scalars (an ABC's isinstance costs more than the rest).
    kind = type(value)
    if kind is dict:
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value if v is not None]
    if kind is str or kind is int or kind is bool or kind is float:
        return value
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value if v is not None]
    return _scalar(value)


def to_json(response: Payload) -> bytes:
    body = {"subsonic-response": _jsonable(response)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: Any) -> str:
    """A scalar as XML writes it, without characters XML cannot hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timestamp(as_utc(value))
    return _NOT_XML.sub("\ufffd", str(value))


def _element(out: list[str], name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _element(out, name, item)
        return
    if not isinstance(value, Mapping):
        out.append(f"<{name}>{_text(value).translate(_TEXT_ESCAPES)}</{name}>")
        return
    out.append(f"<{name}")
    children: list[tuple[str, Any]] = []
    text: Any = None
    for key, item in value.items():
        if item is None:
            continue
        if key == "value":
            text = item
        elif isinstance(item, Mapping | list | tuple):
            children.append((key, item))
        else:
            out.append(f' {key}="{_text(item).translate(_ATTRIBUTE_ESCAPES)}"')
    if not children and text is None:
        out.append("/>")
        return
    out.append(">")
    if text is not None:
        out.append(_text(text).translate(_TEXT_ESCAPES))
    for key, item in children:
        _element(out, key, item)
    out.append(f"</{name}>")


def to_xml(response: Payload) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _element(out, "subsonic-response", {"xmlns": NAMESPACE, **response})
    return "".join(out).encode()


def rendered(fmt: Format, status: str, payload: Payload) -> bytes:
    """The whole ``subsonic-response`` around ``payload``, in ``fmt``."""
    response = envelope(status, payload)
    return to_json(response) if fmt is Format.JSON else to_xml(response)
