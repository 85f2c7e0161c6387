"""The sandbox's side of the wire: reading request bodies, writing answers.

The document takes a POST body in JSON or XML (a ``<sms>`` root holding one element
per parameter), named by the ``Content-Type`` header. It does not show an answer's
shape beyond the code itself, so the sandbox offers three styles:

- ``plain``: the code alone (``514``), or ``80 refaccuse=N`` when a send has a reference;
- ``json``: ``{"code": "514"}``, with ``"refaccuse"`` beside it;
- ``xml``: ``<sms><code>514</code></sms>``, with a ``<refaccuse>`` element beside it.

The balance answers its value in the code's place (``solde`` instead of ``code``).
"""

from __future__ import annotations

import json
from typing import Final
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as SafeXML

STYLES: Final = ("plain", "json", "xml")
_JSON, _XML = "application/json", "application/xml"
_PLAIN = "text/plain; charset=utf-8"
_ROOT = "sms"


class UnreadableBodyError(ValueError):
    """A body the API cannot read; the server answers it with the ``-1`` code."""


def read_body(body: bytes, content_type: str) -> dict[str, str]:
    """The parameters of a request, from its body and ``Content-Type``."""
    media = content_type.partition(";")[0].strip().lower()
    if media == _JSON:
        return _read_json(body)
    if media == _XML:
        return _read_xml(body)
    raise UnreadableBodyError(f"the body must be {_JSON} or {_XML}, not {media or 'untyped'}")


def _read_json(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableBodyError(f"unreadable JSON: {exc}") from None
    except RecursionError:  # nesting deep enough to exhaust the parser
        raise UnreadableBodyError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise UnreadableBodyError("the JSON body is not an object")
    params: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, dict | list):
            raise UnreadableBodyError(f"parameter {name!r} is not a single value")
        params[name] = "" if value is None else str(value)
    return params


def _read_xml(body: bytes) -> dict[str, str]:
    try:
        root = SafeXML.fromstring(body)
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own types
        raise UnreadableBodyError(f"unreadable XML: {type(exc).__name__}") from None
    if root.tag != _ROOT:
        raise UnreadableBodyError(f"the XML root is <{root.tag}>, not <{_ROOT}>")
    # The document's example puts each value on its own indented line.
    return {child.tag: (child.text or "").strip() for child in root}


def _xml(fields: dict[str, str]) -> str:
    root = Element(_ROOT)
    for name, value in fields.items():
        SubElement(root, name).text = value
    return tostring(root, encoding="unicode")


def _styled(style: str, fields: dict[str, str], plain: str) -> tuple[str, str]:
    if style == "json":
        return json.dumps(fields), _JSON
    if style == "xml":
        return _xml(fields), _XML
    return plain, _PLAIN


def code_answer(style: str, code: str, reference: str | None = None) -> tuple[str, str]:
    """Body and ``Content-Type`` answering ``code`` (and a send's reference)."""
    fields = {"code": code}
    if reference:
        fields["refaccuse"] = reference
    return _styled(style, fields, f"{code} refaccuse={reference}" if reference else code)


def balance_answer(style: str, value: str) -> tuple[str, str]:
    """Body and ``Content-Type`` answering the account's balance."""
    return _styled(style, {"solde": value}, value)
