"""Every endpoint and every documented code, through the client, over real HTTP.

Each scenario sets the sandbox account up, makes one call and checks the code the
client read. The matrix runs in both wire formats and all three answer styles, and
checks the exact headers and the body the sandbox received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from defusedxml import ElementTree as SafeET

from sms123_sync.api.client import Client, Result, RetryPolicy
from sms123_sync.api.codes import TABLES, Category, Endpoint
from sms123_sync.errors import AccountError, AuthError, ProtocolError, RetryableError
from sms123_sync.sandbox.server import Faults, Sandbox

FUTURE = datetime.now() + timedelta(days=2)


@dataclass(frozen=True)
class Scenario:
    endpoint: Endpoint
    code: str
    act: Callable[[Client, Sandbox], object]
    raises: type[Exception] | None = None


def _setup_group(c: Client, name: str = "G") -> Result:
    return c.group_add(name)


def _with_contact(c: Client) -> None:
    c.group_add("G")
    c.contact_add(["G"], "33612345678")


def _scheduled_then_cancel(c: Client, s: Sandbox) -> object:
    c.send("0612345678", "plus tard", at=FUTURE)
    return c.send("0612345678", "plus tard", at=FUTURE, cancel=True)


def _twice(c: Client, s: Sandbox) -> object:
    c.send("0612345678", "deux fois")
    return c.send("0612345678", "deux fois")


def _no_credit(c: Client, s: Sandbox) -> object:
    s.store.set_balance(Decimal(0))
    return c.send("0612345678", "sans crédit")


def _domtom_off(c: Client, s: Sandbox) -> object:
    s.set_account(domtom=False)
    return c.send("0692123456", "Réunion")


def _ip_refused(c: Client, s: Sandbox) -> object:
    s.set_account(ip_allowed=False)
    return c.send("0612345678", "ip")


def _blocked(c: Client, s: Sandbox) -> object:
    s.set_account(blocked=frozenset({"33612345678"}))
    return c.send("0612345678", "bloqué")


def _technical(c: Client, s: Sandbox) -> object:
    s.faults = Faults(technical_rate=1.0)
    return c.call(Endpoint.GROUP_ADD, {"groupe": "G"})


def _wrong_url(c: Client, s: Sandbox) -> object:
    wrong = Client(c.credentials, base_url=s.url + "v0/", wire_format=c.wire_format, retry=c.retry)
    with wrong:
        return wrong.balance()


def _group_del_has_contacts(c: Client, s: Sandbox) -> object:
    _with_contact(c)
    return c.group_del("G")


def _contact_del_not_in_group(c: Client, s: Sandbox) -> object:
    c.group_add("H")
    _with_contact(c)
    return c.contact_del("33612345678", "H")


def _group_upd_taken(c: Client, s: Sandbox) -> object:
    c.group_add("G")
    c.group_add("H")
    return c.group_upd("G", "H")


def _group_upd_ok(c: Client, s: Sandbox) -> object:
    c.group_add("G")
    return c.group_upd("G", "H")


def _contact_upd_ok(c: Client, s: Sandbox) -> object:
    _with_contact(c)
    return c.contact_upd("G", "33612345678", "33698765432")


def _contact_add_again(c: Client, s: Sandbox) -> object:
    _with_contact(c)
    return c.contact_add(["G"], "33612345678")


def _contact_del_ok(c: Client, s: Sandbox) -> object:
    _with_contact(c)
    return c.contact_del("33612345678", "G")


def _group_add_again(c: Client, s: Sandbox) -> object:
    c.group_add("G")
    return c.group_add("G")


def _creds(endpoint: Endpoint, **params: str) -> Callable[[Client, Sandbox], object]:
    return lambda c, s: c.call(endpoint, params)


SCENARIOS = [
    # send/
    Scenario(Endpoint.SEND, "-1", lambda c, s: c.send("0612345678", "x" * 200)),
    Scenario(Endpoint.SEND, "-2", lambda c, s: _technical_send(c, s), RetryableError),
    Scenario(Endpoint.SEND, "80", lambda c, s: c.send("0612345678", "bonjour")),
    Scenario(Endpoint.SEND, "81", lambda c, s: c.send("0612345678", "plus tard", at=FUTURE)),
    Scenario(Endpoint.SEND, "82", _creds(Endpoint.SEND, cleAPI="wrong", numero="0612345678", message="m"), AuthError),
    Scenario(Endpoint.SEND, "83", _no_credit, AccountError),
    Scenario(Endpoint.SEND, "84", lambda c, s: c.send("12345", "numéro faux")),
    Scenario(
        Endpoint.SEND, "85", lambda c, s: c.call(Endpoint.SEND, {"numero": "0612345678", "message": "m", "diff": "99"})
    ),
    Scenario(Endpoint.SEND, "87", _creds(Endpoint.SEND, user="", numero="0612345678", message="m"), AuthError),
    Scenario(Endpoint.SEND, "88", _creds(Endpoint.SEND, cleAPI="", numero="0612345678", message="m"), AuthError),
    Scenario(Endpoint.SEND, "89", lambda c, s: c.call(Endpoint.SEND, {"numero": "", "message": "m"})),
    Scenario(Endpoint.SEND, "90", lambda c, s: c.call(Endpoint.SEND, {"numero": "0612345678", "message": ""})),
    Scenario(Endpoint.SEND, "91", _twice),
    Scenario(Endpoint.SEND, "92", lambda c, s: c.send("0612345678", "essai", test=True)),
    Scenario(Endpoint.SEND, "93", _domtom_off, AccountError),
    Scenario(Endpoint.SEND, "94", _scheduled_then_cancel),
    Scenario(Endpoint.SEND, "95", lambda c, s: c.send("0612345678", "rien", at=FUTURE, cancel=True)),
    Scenario(Endpoint.SEND, "96", _ip_refused, AuthError),
    Scenario(Endpoint.SEND, "97", lambda c, s: c.send("0612345678", "m STOP SMS au 36177", sender="Bad_Sender!")),
    Scenario(Endpoint.SEND, "101", _blocked),
    Scenario(Endpoint.SEND, "102", lambda c, s: c.send("0612345678", "promo", sender="MaBoutique")),
    # solde/
    Scenario(Endpoint.BALANCE, "-1", lambda c, s: c.call(Endpoint.BALANCE, {"extra": "1"})),
    Scenario(Endpoint.BALANCE, "-2", lambda c, s: _technical_balance(c, s), RetryableError),
    Scenario(Endpoint.BALANCE, "-3", _wrong_url, ProtocolError),
    Scenario(Endpoint.BALANCE, "E501", _creds(Endpoint.BALANCE, user=""), AuthError),
    Scenario(Endpoint.BALANCE, "E502", _creds(Endpoint.BALANCE, cleAPI=""), AuthError),
    Scenario(Endpoint.BALANCE, "E505", _creds(Endpoint.BALANCE, cleAPI="wrong"), AuthError),
    # group/add/
    Scenario(Endpoint.GROUP_ADD, "-1", lambda c, s: c.call(Endpoint.GROUP_ADD, {})),
    Scenario(Endpoint.GROUP_ADD, "-2", _technical, RetryableError),
    Scenario(Endpoint.GROUP_ADD, "501", _creds(Endpoint.GROUP_ADD, user="", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_ADD, "502", _creds(Endpoint.GROUP_ADD, cleAPI="", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_ADD, "505", _creds(Endpoint.GROUP_ADD, cleAPI="nope", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_ADD, "513", _group_add_again),
    Scenario(Endpoint.GROUP_ADD, "514", lambda c, s: c.group_add("Clients VIP")),
    # group/upd/
    Scenario(Endpoint.GROUP_UPD, "-1", lambda c, s: c.call(Endpoint.GROUP_UPD, {"groupe": "G"})),
    Scenario(Endpoint.GROUP_UPD, "-2", lambda c, s: _technical_on(c, s, Endpoint.GROUP_UPD), RetryableError),
    Scenario(Endpoint.GROUP_UPD, "501", _creds(Endpoint.GROUP_UPD, user="", groupe="G", groupe_upd="H"), AuthError),
    Scenario(Endpoint.GROUP_UPD, "502", _creds(Endpoint.GROUP_UPD, cleAPI="", groupe="G", groupe_upd="H"), AuthError),
    Scenario(Endpoint.GROUP_UPD, "505", _creds(Endpoint.GROUP_UPD, cleAPI="x", groupe="G", groupe_upd="H"), AuthError),
    Scenario(Endpoint.GROUP_UPD, "513", _group_upd_taken),
    Scenario(Endpoint.GROUP_UPD, "514", _group_upd_ok),
    # group/del/
    Scenario(Endpoint.GROUP_DEL, "-1", lambda c, s: c.call(Endpoint.GROUP_DEL, {})),
    Scenario(Endpoint.GROUP_DEL, "-2", lambda c, s: _technical_on(c, s, Endpoint.GROUP_DEL), RetryableError),
    Scenario(Endpoint.GROUP_DEL, "501", _creds(Endpoint.GROUP_DEL, user="", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_DEL, "502", _creds(Endpoint.GROUP_DEL, cleAPI="", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_DEL, "505", _creds(Endpoint.GROUP_DEL, cleAPI="x", groupe="G"), AuthError),
    Scenario(Endpoint.GROUP_DEL, "515", _group_del_has_contacts),
    Scenario(Endpoint.GROUP_DEL, "516", lambda c, s: (_setup_group(c), c.group_del("G"))[1]),
    Scenario(Endpoint.GROUP_DEL, "517", lambda c, s: c.group_del("Nulle part")),
    # contact/add/
    Scenario(Endpoint.CONTACT_ADD, "-1", lambda c, s: c.call(Endpoint.CONTACT_ADD, {"groupe": "G"})),
    Scenario(Endpoint.CONTACT_ADD, "-2", lambda c, s: _technical_on(c, s, Endpoint.CONTACT_ADD), RetryableError),
    Scenario(Endpoint.CONTACT_ADD, "501", _creds(Endpoint.CONTACT_ADD, user="", groupe="G", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_ADD, "502", _creds(Endpoint.CONTACT_ADD, cleAPI="", groupe="G", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_ADD, "505", _creds(Endpoint.CONTACT_ADD, cleAPI="x", groupe="G", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_ADD, "506", _contact_add_again),
    Scenario(Endpoint.CONTACT_ADD, "507", lambda c, s: (_setup_group(c), c.contact_add(["G"], "33612345678"))[1]),
    # contact/upd/
    Scenario(Endpoint.CONTACT_UPD, "-1", lambda c, s: c.call(Endpoint.CONTACT_UPD, {"groupe": "G"})),
    Scenario(Endpoint.CONTACT_UPD, "-2", lambda c, s: _technical_on(c, s, Endpoint.CONTACT_UPD), RetryableError),
    Scenario(Endpoint.CONTACT_UPD, "501", _creds(Endpoint.CONTACT_UPD, user="", groupe="G"), AuthError),
    Scenario(Endpoint.CONTACT_UPD, "502", _creds(Endpoint.CONTACT_UPD, cleAPI="", groupe="G"), AuthError),
    Scenario(Endpoint.CONTACT_UPD, "505", _creds(Endpoint.CONTACT_UPD, cleAPI="x", groupe="G"), AuthError),
    Scenario(Endpoint.CONTACT_UPD, "507", _contact_upd_ok),
    # contact/del/
    Scenario(Endpoint.CONTACT_DEL, "-1", lambda c, s: c.call(Endpoint.CONTACT_DEL, {})),
    Scenario(Endpoint.CONTACT_DEL, "-2", lambda c, s: _technical_on(c, s, Endpoint.CONTACT_DEL), RetryableError),
    Scenario(Endpoint.CONTACT_DEL, "501", _creds(Endpoint.CONTACT_DEL, user="", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_DEL, "502", _creds(Endpoint.CONTACT_DEL, cleAPI="", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_DEL, "505", _creds(Endpoint.CONTACT_DEL, cleAPI="x", numero="1"), AuthError),
    Scenario(Endpoint.CONTACT_DEL, "508", lambda c, s: c.contact_del("33600000000")),
    Scenario(Endpoint.CONTACT_DEL, "509", _contact_del_ok),
    Scenario(Endpoint.CONTACT_DEL, "510", _contact_del_not_in_group),
]


def _technical_on(c: Client, s: Sandbox, endpoint: Endpoint) -> object:
    s.faults = Faults(technical_rate=1.0)
    return c.call(endpoint, {"groupe": "G", "groupe_upd": "H", "numero": "1", "numeroa": "1"})


def _technical_send(c: Client, s: Sandbox) -> object:
    s.faults = Faults(technical_rate=1.0)
    return c.send("0612345678", "m")


def _technical_balance(c: Client, s: Sandbox) -> object:
    s.faults = Faults(technical_rate=1.0)
    return c.balance()


def test_every_documented_code_has_a_scenario() -> None:
    documented = {(e, i.code) for e, table in TABLES.items() for i in table.values() if i.documented}
    covered = {(s.endpoint, s.code) for s in SCENARIOS}
    assert documented == covered


# What the reconciler's rules (docs/design.md, "Codes are outcomes, not failures") need
# each code to mean, written here apart from the client's table so that a wrong category
# there is seen: an idempotent answer read as a failure, or the reverse.
CATEGORY_SPEC: dict[tuple[Endpoint, str], Category] = {
    (Endpoint.GROUP_ADD, "514"): Category.DONE,
    (Endpoint.GROUP_ADD, "513"): Category.ALREADY_DONE,
    (Endpoint.GROUP_UPD, "513"): Category.CONFLICT,
    (Endpoint.GROUP_DEL, "516"): Category.DONE,
    (Endpoint.GROUP_DEL, "515"): Category.CONFLICT,
    (Endpoint.GROUP_DEL, "517"): Category.ALREADY_DONE,
    (Endpoint.CONTACT_ADD, "507"): Category.DONE,
    (Endpoint.CONTACT_ADD, "506"): Category.ALREADY_DONE,
    (Endpoint.CONTACT_DEL, "509"): Category.DONE,
    (Endpoint.CONTACT_DEL, "508"): Category.ALREADY_DONE,
    (Endpoint.CONTACT_DEL, "510"): Category.ALREADY_DONE,
    (Endpoint.CONTACT_ADD, "505"): Category.AUTH,
    (Endpoint.SEND, "80"): Category.DONE,
    (Endpoint.SEND, "82"): Category.AUTH,
    (Endpoint.SEND, "96"): Category.AUTH,
    (Endpoint.SEND, "83"): Category.ACCOUNT,
    (Endpoint.SEND, "91"): Category.ALREADY_DONE,
    (Endpoint.SEND, "84"): Category.BAD_INPUT,
    (Endpoint.BALANCE, "E505"): Category.AUTH,
}


def test_the_category_spec_names_documented_codes() -> None:
    assert all(code in TABLES[endpoint] for endpoint, code in CATEGORY_SPEC)


@pytest.mark.parametrize("style", ["plain", "json", "xml"])
@pytest.mark.parametrize("wire_format", ["json", "xml"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.endpoint.name}-{s.code}")
def test_code_read_through_the_client(
    scenario: Scenario, wire_format: str, style: str, sandbox: Sandbox, make_client: Callable[..., Client]
) -> None:
    sandbox.style = style
    client = make_client(wire_format, retry=RetryPolicy(attempts=1))
    if scenario.raises is None:
        result = scenario.act(client, sandbox)
        assert getattr(result, "code", None) == scenario.code, getattr(result, "raw", result)
        info = getattr(result, "info", None)
    else:
        with pytest.raises(scenario.raises) as caught:
            scenario.act(client, sandbox)
        info = getattr(caught.value, "info", None)
        assert info is not None and info.code == scenario.code
    expected = CATEGORY_SPEC.get((scenario.endpoint, scenario.code))
    if expected is not None:
        assert info is not None and info.category is expected
    _assert_wire(sandbox, wire_format)


def _assert_wire(sandbox: Sandbox, wire_format: str) -> None:
    """Every request was a POST in the chosen format, carrying the credentials."""
    assert sandbox.requests
    media = f"application/{wire_format}"
    for request in sandbox.requests:
        assert request.headers["content-type"] == media
        assert request.headers["accept"] == media
        params = _decode(request.body, wire_format)
        assert {"user", "cleAPI"} <= params.keys()


def _decode(body: bytes, wire_format: str) -> dict[str, str]:
    if wire_format == "json":
        data = json.loads(body)
        assert isinstance(data, dict)
        return data
    root = SafeET.fromstring(body)
    assert root.tag == "sms"
    return {child.tag: child.text or "" for child in root}


def test_exact_json_body(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    client = make_client("json")
    client.group_add("G")
    client.contact_add(["G", "Clients VIP"], "33612345678")
    body = sandbox.requests[-1].body
    assert body == (
        b'{"user": "sandbox", "cleAPI": "sandbox-key", "groupe": "G--Clients VIP", "numero": "33612345678", '
        b'"nom": "", "prenom": "", "societe": "", "datea": "", "v1": "", "v2": "", "v3": ""}'
    )


def test_exact_xml_body(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    client = make_client("xml")
    client.group_upd("Ancien", "Nouveau")
    assert sandbox.requests[-1].body == (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b"<sms><user>sandbox</user><cleAPI>sandbox-key</cleAPI><groupe>Ancien</groupe>"
        b"<groupe_upd>Nouveau</groupe_upd></sms>"
    )
    assert sandbox.requests[-1].path == "/api/group/upd/"


def test_send_parameters_on_the_wire(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    client = make_client("json")
    when = datetime(2031, 9, 12, 15, 30)
    client.send("33612345678", "Promo STOP SMS au 36177", at=when, flash=True, sender="Boutique", tts=True, test=True)
    params = json.loads(sandbox.requests[-1].body)
    assert params == {
        "user": "sandbox",
        "cleAPI": "sandbox-key",
        "numero": "33612345678",
        "message": "Promo STOP SMS au 36177",
        "diff": "153012092031",
        "flash": "o",
        "senderid": "Boutique",
        "TTS": "o",
        "test": "o",
    }


def test_legacy_email_and_pass(sandbox: Sandbox) -> None:
    from sms123_sync.api.wire import Credentials

    with Client(Credentials("sandbox", "sandbox-key", legacy=True), base_url=sandbox.url) as client:
        assert client.group_add("G").code == "514"
    assert set(json.loads(sandbox.requests[-1].body)) == {"email", "pass", "groupe"}


@pytest.mark.parametrize("style", ["plain", "json", "xml"])
def test_balance_with_decimal_comma(style: str, sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.style = style
    sandbox.store.set_balance(Decimal("12.5"))
    assert make_client().balance().value == Decimal("12.5")


def test_send_reference_is_kept(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.references = True
    result = make_client().send("0612345678", "avec accusé")
    assert result.code == "80"
    assert result.reference and result.reference.isdigit()
    assert result.raw.startswith("80 refaccuse=")


def test_send_debits_segments_and_cancel_refunds(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.set_account(long_sms=True)
    client = make_client()
    client.send("0612345678", "a" * 200)  # two GSM-7 segments
    assert sandbox.store.balance() == Decimal(998)
    client.send("0612345678", "plus tard", at=FUTURE)
    assert sandbox.store.balance() == Decimal(997)
    client.send("0612345678", "plus tard", at=FUTURE, cancel=True)
    assert sandbox.store.balance() == Decimal(998)
    client.send("0612345678", "essai", test=True)
    assert sandbox.store.balance() == Decimal(998)


def test_multi_group_add_is_all_or_nothing(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    client = make_client()
    for g in ("A", "B"):
        client.group_add(g)
    client.contact_add(["B"], "33612345678")
    assert client.contact_add(["A", "B"], "33612345678").code == "506"
    assert ("A", "33612345678") not in sandbox.store.memberships()


def test_inspection_endpoint(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    import httpx

    client = make_client()
    client.group_add("G")
    client.contact_add(["G"], "33612345678")
    state = httpx.get(sandbox.url.replace("/api/", "/_sandbox/state")).json()
    assert state["groups"] == ["G"]
    assert state["contacts"][0]["numero"] == "33612345678"
