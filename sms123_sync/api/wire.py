"""Bytes on the wire: request bodies, headers, and reading the API's answers.

Owns the French parameter names (``user``, ``cleAPI``, ``groupe``…) on the way out
and the three answer styles on the way in (plain text, JSON, XML). It never talks to
the network and never decides what a code means (that is :mod:`sms123_sync.api.codes`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as SafeET

from sms123_sync.api.codes import Endpoint
from sms123_sync.errors import ProtocolError
from sms123_sync.redact import excerpt


class WireFormat(StrEnum):
    """Request body format; the document allows JSON and XML."""

    JSON = "json"
    XML = "xml"

    @property
    def media_type(self) -> str:
        return f"application/{self.value}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """API credentials; ``repr`` and ``str`` never show the key.

    ``legacy`` sends the older ``email`` + ``pass`` names instead of ``user`` + ``cleAPI``.
    """

    user: str = field(repr=False)
    api_key: str = field(repr=False)
    legacy: bool = False

    def __repr__(self) -> str:
        return f"Credentials(user={mask(self.user)!r}, api_key='***', legacy={self.legacy})"

    __str__ = __repr__

    def as_params(self) -> dict[str, str]:
        if self.legacy:
            return {"email": self.user, "pass": self.api_key}
        return {"user": self.user, "cleAPI": self.api_key}

    def secrets(self) -> tuple[str, ...]:
        """Values a log filter must redact."""
        return tuple(s for s in (self.user, self.api_key) if s)


def mask(value: str) -> str:
    """Shows just enough of an identifier to recognise it: ``ab***``."""
    return (value[:2] + "***") if len(value) > 2 else "***"


def encode_request(params: Mapping[str, str], fmt: WireFormat) -> tuple[bytes, dict[str, str]]:
    """The POST body and headers for ``params`` in ``fmt``."""
    # identity: an answer is a few bytes, and a compressed one could inflate without bound.
    headers = {"Content-Type": fmt.media_type, "Accept": fmt.media_type, "Accept-Encoding": "identity"}
    if fmt is WireFormat.JSON:
        return json.dumps(dict(params), ensure_ascii=False).encode("utf-8"), headers
    root = Element("sms")
    for name, value in params.items():
        SubElement(root, name).text = value
    return tostring(root, encoding="UTF-8", xml_declaration=True), headers


def decode_request(body: bytes, content_type: str) -> dict[str, str]:
    """Reads a request body back into parameters (the sandbox's side).

    Raises ``ValueError`` on anything malformed, which the server answers with -1.
    """
    media = content_type.split(";")[0].strip().lower()
    if media == WireFormat.JSON.media_type:
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    if media == WireFormat.XML.media_type:
        root = SafeET.fromstring(body)
        if root.tag != "sms":
            raise ValueError("XML root is not <sms>")
        return {child.tag: (child.text or "").strip() for child in root}
    raise ValueError(f"unsupported Content-Type {content_type!r}")


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer as read from the wire: the code, an optional reference, the raw text."""

    code: str
    reference: str | None
    raw: str


# A code is short: "80", "514", "-2", "E505". A reference is one short word of letters
# and digits. Anything longer is not an answer of this API, whatever its status.
_CODE = re.compile(r"^(?:-?\d{1,3}|E\d{3})$")
_REFERENCE = re.compile(r"^\w{1,40}$")
_REF_WORDS = re.compile(r"^(-?\d{1,3}|E\d{3})\s*[ :;,]\s*(?:ref\w{0,12}\s*=\s*)?(\w{1,40})$", re.IGNORECASE)
_THREE_DIGIT_SEND = ("100", "101", "102")


def _not_an_answer(what: str, endpoint: Endpoint | str, raw: str) -> ProtocolError:
    """The error for an answer this API would not give, quoting it cut short and redacted."""
    name = endpoint.value if isinstance(endpoint, Endpoint) else endpoint
    return ProtocolError(f"{name} answered {what}: {excerpt(raw)}", endpoint=name)


def _fields_of(raw: str, endpoint: Endpoint | str) -> dict[str, str] | None:
    """The fields of a JSON or XML answer, or None for plain text."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise _not_an_answer("unreadable JSON", endpoint, raw) from None
        if not isinstance(data, dict):
            raise _not_an_answer("JSON that is not an object", endpoint, raw)
        return {str(k).lower(): str(v) for k, v in data.items() if v is not None}
    if text.startswith("<"):
        try:
            root = SafeET.fromstring(text.encode("utf-8"))
        except Exception:  # defusedxml raises several unrelated types
            raise _not_an_answer("unreadable XML or HTML", endpoint, raw) from None
        found = {el.tag.lower(): (el.text or "").strip() for el in root.iter() if el is not root}
        if not found and root.text:
            found = {root.tag.lower(): root.text.strip()}
        return found
    return None


def split_code(endpoint: Endpoint, text: str) -> tuple[str, str | None]:
    """Separates a plain-text code from a reference glued to it.

    ``80 refaccuse=123`` and ``8012345`` both give ``("80", ...)``. On ``send/`` the
    only three-digit codes are 100–102, so longer digit runs are a two-digit code plus a
    reference; on the group and contact endpoints codes have three digits.
    """
    text = text.strip()
    match = _REF_WORDS.match(text)
    if match:
        return match.group(1), match.group(2)
    if _CODE.match(text):
        return text, None
    if not text.isdigit():
        raise _not_an_answer("something that is not a code", endpoint, text)
    width = 3
    if endpoint is Endpoint.SEND and not text.startswith(_THREE_DIGIT_SEND):
        width = 2
    if len(text) <= width:
        return text, None
    if not _REFERENCE.match(text[width:]):
        raise _not_an_answer("a digit run too long for a code and reference", endpoint, text)
    return text[:width], text[width:]


def parse_answer(endpoint: Endpoint, raw: str) -> Answer:
    """Reads a code answer in any of the three styles."""
    fields = _fields_of(raw, endpoint)
    if not raw.strip():
        raise ProtocolError(f"empty answer from {endpoint.value}", endpoint=endpoint.value)
    if fields is None:
        code, ref = split_code(endpoint, raw)
    else:
        value = fields.get("code") or fields.get("retour") or fields.get("status")
        if value is None:
            raise _not_an_answer("without a code field", endpoint, raw)
        code, ref = split_code(endpoint, value)
        ref = fields.get("refaccuse") or fields.get("reference") or ref
        if ref is not None and not _REFERENCE.match(ref):
            raise _not_an_answer("a reference that is not one short word", endpoint, ref)
    return Answer(code=code, reference=ref, raw=raw)


# A balance is a count of credits: a short decimal, never a page of digits.
_BALANCE = re.compile(r"^\d{1,12}(?:[.,]\d{1,6})?$")


def parse_balance(raw: str) -> Decimal | str:
    """The balance as a Decimal, or the error code the server gave instead."""
    fields = _fields_of(raw, Endpoint.BALANCE)
    text = raw.strip() if fields is None else (fields.get("solde") or fields.get("balance") or fields.get("code") or "")
    text = text.strip()
    if _BALANCE.match(text):
        try:
            return Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the regex admits only numbers
            raise ProtocolError("unreadable balance") from None
    if _CODE.match(text):
        return text
    if text:
        raise _not_an_answer("something that is neither a balance nor a code", Endpoint.BALANCE, text)
    raise ProtocolError("empty answer from solde/", endpoint=Endpoint.BALANCE.value)


def render_answer(style: str, code: str, reference: str | None = None) -> tuple[str, str]:
    """Body and Content-Type of a code answer in ``style`` (the sandbox's side)."""
    if style == "json":
        data: dict[str, Any] = {"code": code}
        if reference:
            data["refaccuse"] = reference
        return json.dumps(data), "application/json"
    if style == "xml":
        root = Element("sms")
        SubElement(root, "code").text = code
        if reference:
            SubElement(root, "refaccuse").text = reference
        return tostring(root, encoding="unicode"), "application/xml"
    text = f"{code} refaccuse={reference}" if reference else code
    return text, "text/plain; charset=utf-8"


def render_balance(style: str, value: str) -> tuple[str, str]:
    """Body and Content-Type of a balance answer in ``style``."""
    if style == "json":
        return json.dumps({"solde": value}), "application/json"
    if style == "xml":
        root = Element("sms")
        SubElement(root, "solde").text = value
        return tostring(root, encoding="unicode"), "application/xml"
    return value, "text/plain; charset=utf-8"
