"""Assertions made by a real Keystone 30 (data/keystone30_*, captured with bench/peers/keystone.py
for alice, sp_url RECIPIENT) against stor's checks, offline: RSA-SHA1, no Conditions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ocx.identity.federation import saml

DATA = Path(__file__).parent / "data"
RECIPIENT = "https://stor.example/v3/OS-FEDERATION/identity_providers/keystone/protocols/saml2/ecp"


def captured(lifetime: int) -> tuple[bytes, str]:
    envelope = (DATA / f"keystone30_ecp_{lifetime}s.xml").read_bytes()
    return envelope, (DATA / f"keystone30_cert_{lifetime}s.pem").read_text()


def issued(verified: saml.VerifiedAssertion) -> dt.datetime:
    return verified.issued_at + dt.timedelta(seconds=1)


def test_keystone_assertion_is_read_from_its_bearer_confirmation() -> None:
    verified = saml.verify(*captured(300), accept_sha1=True)
    saml.check_window(verified, "stor", now=issued(verified), recipient=RECIPIENT)
    assert verified.attributes["openstack_user"] == ["alice"]
    assert verified.recipients == (RECIPIENT,)
    assert verified.audience == []


def test_sha1_is_refused_unless_the_idp_allows_it() -> None:
    with pytest.raises(saml.SamlError, match="Signature method RSA_SHA1 forbidden"):
        saml.verify(*captured(300))


def test_keystone_assertion_for_another_endpoint_is_refused() -> None:
    verified = saml.verify(*captured(300), accept_sha1=True)
    other = RECIPIENT.replace("stor.example", "other.example")
    with pytest.raises(saml.SamlError, match="for another recipient"):
        saml.check_window(verified, "stor", now=issued(verified), recipient=other)


def test_without_audience_or_recipient_it_is_refused() -> None:
    verified = saml.verify(*captured(300), accept_sha1=True)
    with pytest.raises(saml.SamlError, match="for another audience, not 'stor'"):
        saml.check_window(verified, "stor", now=issued(verified))


def test_keystone_default_hour_long_assertion_is_refused() -> None:
    verified = saml.verify(*captured(3600), accept_sha1=True)
    with pytest.raises(saml.SamlError, match="lives longer than five minutes"):
        saml.check_window(verified, "stor", now=issued(verified), recipient=RECIPIENT)


def test_tampered_keystone_assertion_is_refused() -> None:
    envelope, cert = captured(300)
    forged = envelope.replace(b">alice</saml:AttributeValue>", b">admin</saml:AttributeValue>")
    assert forged != envelope
    with pytest.raises(saml.SamlError, match="signature is not valid"):
        saml.verify(forged, cert, accept_sha1=True)
