"""Reading answers in every shape the API and its example code show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sms123_sync.api.codes import Endpoint
from sms123_sync.api.wire import parse_answer, parse_balance
from sms123_sync.errors import ProtocolError


@pytest.mark.parametrize(
    ("endpoint", "raw", "code", "ref"),
    [
        (Endpoint.SEND, "80", "80", None),
        (Endpoint.SEND, " 80\n", "80", None),
        (Endpoint.SEND, "80 refaccuse=123", "80", "123"),
        (Endpoint.SEND, "8012345", "80", "12345"),
        (Endpoint.SEND, "101", "101", None),
        (Endpoint.SEND, "10112", "101", "12"),
        (Endpoint.SEND, "-2", "-2", None),
        (Endpoint.GROUP_ADD, "514", "514", None),
        (Endpoint.CONTACT_DEL, "509", "509", None),
        (Endpoint.GROUP_ADD, '{"code": "513"}', "513", None),
        (Endpoint.GROUP_ADD, '{"code": 513}', "513", None),
        (Endpoint.SEND, '{"code": "80", "refaccuse": "9"}', "80", "9"),
        (Endpoint.GROUP_DEL, "<sms><code>517</code></sms>", "517", None),
        (Endpoint.GROUP_DEL, "<?xml version='1.0'?><code>516</code>", "516", None),
    ],
)
def test_parse_answer(endpoint: Endpoint, raw: str, code: str, ref: str | None) -> None:
    answer = parse_answer(endpoint, raw)
    assert (answer.code, answer.reference, answer.raw) == (code, ref, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1250", Decimal(1250)),
        ("12,5", Decimal("12.5")),
        ("12.5", Decimal("12.5")),
        ('{"solde": "3,25"}', Decimal("3.25")),
        ("<sms><solde>7</solde></sms>", Decimal(7)),
        ("E505", "E505"),
        ("-2", "-2"),
    ],
)
def test_parse_balance(raw: str, expected: Decimal | str) -> None:
    assert parse_balance(raw) == expected


@pytest.mark.parametrize("raw", ["", "{not json", "<sms><code>1</code>", '{"other": 1}'])
def test_unreadable_answers_raise(raw: str) -> None:
    with pytest.raises(ProtocolError):
        parse_answer(Endpoint.GROUP_ADD, raw)


def test_xml_bombs_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><sms><code>&b;</code></sms>'
    with pytest.raises(ProtocolError):
        parse_answer(Endpoint.GROUP_ADD, bomb)
