"""SAML 2.0 assertions for Keystone-to-Keystone federation: make and sign (identity provider
side), parse and verify (service provider side). No HTTP in here.

The service provider reads attributes *only* from the element the signature covers (as
returned by the verifier), so signature-wrapping tricks that add a second, unsigned
assertion change nothing. Documents with a DTD are refused before parsing (entity expansion),
and so is anything over 256 KiB.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import defusedxml.ElementTree as safe_et
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import DefusedXmlException
from lxml import etree
from signxml import (
    DigestAlgorithm,
    InvalidInput,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidSignature

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ECP = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"saml": SAML, "samlp": SAMLP, "soap": SOAP, "ds": DS}

MAX_DOCUMENT = 256 * 1024
MAX_LIFETIME = dt.timedelta(minutes=5)
SKEW = dt.timedelta(seconds=30)
ISO = "%Y-%m-%dT%H:%M:%SZ"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
# Keystone signs with RSA-SHA1 and SHA-1 digests, hard-coded; admitted only from an identity
# provider whose operator said so (IdentityProvider.saml_accept_sha1).
WITH_SHA1 = SignatureConfiguration(
    signature_methods=frozenset(SignatureMethod), digest_algorithms=frozenset(DigestAlgorithm)
)


class SamlError(ValueError):
    """The document is not an acceptable assertion; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    private_pem: str
    cert_pem: str


def new_signing_key(common_name: str) -> SigningKey:
    """An RSA key and a self-signed certificate, valid ten years, for signing assertions."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(pem.decode(), cert.public_bytes(serialization.Encoding.PEM).decode())


@dataclass(frozen=True)
class AssertionRequest:
    issuer: str
    audience: str
    recipient: str
    subject: str
    attributes: dict[str, list[str]]
    lifetime: dt.timedelta = MAX_LIFETIME


def _el(
    parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def build_assertion(
    req: AssertionRequest, key: SigningKey, now: dt.datetime | None = None
) -> etree._Element:
    """A signed ``saml:Assertion`` for one audience, valid from ``now`` for ``req.lifetime``
    (callers keep that within :data:`MAX_LIFETIME`; the attack tests need it longer)."""
    now = now or dt.datetime.now(dt.UTC)
    until = now + req.lifetime
    assertion_id = "_" + uuid.uuid4().hex
    root = etree.Element(
        f"{{{SAML}}}Assertion",
        {"ID": assertion_id, "Version": "2.0", "IssueInstant": now.strftime(ISO)},
        nsmap={"saml": SAML},
    )
    _el(root, SAML, "Issuer", req.issuer)
    root.append(etree.Element(f"{{{DS}}}Signature", {"Id": "placeholder"}, nsmap={"ds": DS}))
    subject = _el(root, SAML, "Subject")
    _el(
        subject,
        SAML,
        "NameID",
        req.subject,
        Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    )
    confirmation = _el(
        subject, SAML, "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"
    )
    _el(
        confirmation,
        SAML,
        "SubjectConfirmationData",
        Recipient=req.recipient,
        NotOnOrAfter=until.strftime(ISO),
    )
    conditions = _el(
        root, SAML, "Conditions", NotBefore=now.strftime(ISO), NotOnOrAfter=until.strftime(ISO)
    )
    _el(_el(conditions, SAML, "AudienceRestriction"), SAML, "Audience", req.audience)
    statement = _el(root, SAML, "AttributeStatement")
    for name, values in req.attributes.items():
        attribute = _el(
            statement,
            SAML,
            "Attribute",
            Name=name,
            NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
        )
        for value in values:
            _el(attribute, SAML, "AttributeValue", value)
    # Exclusive canonicalization: the assertion stays valid inside any Response or envelope.
    signer = XMLSigner(
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
    )
    signed: etree._Element = signer.sign(
        root, key=key.private_pem.encode(), cert=key.cert_pem, reference_uri=assertion_id
    )
    return signed


def response(assertion: etree._Element, req: AssertionRequest) -> etree._Element:
    """The ``samlp:Response`` carrying a signed assertion."""
    now = dt.datetime.now(dt.UTC).strftime(ISO)
    root = etree.Element(
        f"{{{SAMLP}}}Response",
        {
            "ID": "_" + uuid.uuid4().hex,
            "Version": "2.0",
            "IssueInstant": now,
            "Destination": req.recipient,
        },
        nsmap={"samlp": SAMLP, "saml": SAML},
    )
    _el(root, SAML, "Issuer", req.issuer)
    status = _el(root, SAMLP, "Status")
    _el(status, SAMLP, "StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
    root.append(assertion)
    return root


def ecp_envelope(saml_response: etree._Element, relay_state: str) -> bytes:
    """The SOAP envelope of the ECP profile, as keystoneauth1 posts it to the SP."""
    env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap11": SOAP, "ecp": ECP})
    header = _el(env, SOAP, "Header")
    _el(
        header,
        ECP,
        "RelayState",
        relay_state,
        **{
            f"{{{SOAP}}}actor": "http://schemas.xmlsoap.org/soap/actor/next",
            f"{{{SOAP}}}mustUnderstand": "1",
        },
    )
    _el(env, SOAP, "Body").append(saml_response)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class VerifiedAssertion:
    id: str
    issuer: str
    subject: str
    audience: list[str]
    not_before: dt.datetime
    not_on_or_after: dt.datetime
    issued_at: dt.datetime
    attributes: dict[str, list[str]]
    recipients: tuple[str, ...] = ()  # of its bearer SubjectConfirmations


def parse_document(data: bytes) -> etree._Element:
    """Parse untrusted XML: bounded size, no DTD, no entities, no network."""
    if len(data) > MAX_DOCUMENT:
        raise SamlError("The SAML document is too large.")
    try:
        safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SamlError("The SAML document declares a DTD or entities.") from exc
    except safe_et.ParseError as exc:
        raise SamlError("The SAML document is not well-formed XML.") from exc
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SamlError("The SAML document is not well-formed XML.") from exc


def verify(data: bytes, cert_pem: str, *, accept_sha1: bool = False) -> VerifiedAssertion:
    """The assertion in ``data`` whose signature verifies with ``cert_pem``."""
    doc = parse_document(data)
    assertions = doc.findall(".//saml:Assertion", NS)
    if len(assertions) != 1:
        raise SamlError("Expected exactly one SAML assertion.")
    config = WITH_SHA1 if accept_sha1 else SignatureConfiguration()
    try:
        result = XMLVerifier().verify(
            assertions[0], x509_cert=cert_pem, expect_references=1, expect_config=config
        )
    except (InvalidSignature, InvalidInput) as exc:
        raise SamlError(f"The SAML assertion's signature is not valid: {exc}") from exc
    if isinstance(result, list):
        raise SamlError("Expected exactly one signature reference.")
    signed = result.signed_xml
    if signed is None or signed.tag != f"{{{SAML}}}Assertion":
        raise SamlError("The signature does not cover the assertion.")
    return _read(signed)


def _text(node: etree._Element, path: str, what: str) -> str:
    found = node.find(path, NS)
    if found is None or not (found.text or "").strip():
        raise SamlError(f"The SAML assertion has no {what}.")
    return str(found.text).strip()


def _time(value: str | None, what: str) -> dt.datetime:
    if not value:
        raise SamlError(f"The SAML assertion has no {what}.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SamlError(f"The SAML assertion's {what} is not a time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _read(signed: etree._Element) -> VerifiedAssertion:
    attributes: dict[str, list[str]] = {}
    for attribute in signed.findall("saml:AttributeStatement/saml:Attribute", NS):
        values = [v.text or "" for v in attribute.findall("saml:AttributeValue", NS)]
        attributes.setdefault(str(attribute.get("Name")), []).extend(values)
    issued_at = _time(signed.get("IssueInstant"), "IssueInstant")
    bearer = [
        data
        for confirmation in signed.findall("saml:Subject/saml:SubjectConfirmation", NS)
        if confirmation.get("Method") == BEARER
        for data in confirmation.findall("saml:SubjectConfirmationData", NS)
    ]
    conditions = signed.find("saml:Conditions", NS)
    if conditions is not None:
        not_before = _time(conditions.get("NotBefore"), "NotBefore")
        not_on_or_after = _time(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
        audience = conditions.findall("saml:AudienceRestriction/saml:Audience", NS)
    elif bearer:
        # Keystone's assertions have no Conditions: their end is the bearer confirmation's.
        not_before, audience = issued_at, []
        not_on_or_after = min(_time(d.get("NotOnOrAfter"), "NotOnOrAfter") for d in bearer)
    else:
        raise SamlError("The SAML assertion has no conditions.")
    return VerifiedAssertion(
        id=str(signed.get("ID") or ""),
        issuer=_text(signed, "saml:Issuer", "issuer"),
        subject=_text(signed, "saml:Subject/saml:NameID", "subject"),
        audience=[str(a.text) for a in audience],
        not_before=not_before,
        not_on_or_after=not_on_or_after,
        issued_at=issued_at,
        attributes=attributes,
        recipients=tuple(str(d.get("Recipient")) for d in bearer if d.get("Recipient")),
    )


def check_window(
    assertion: VerifiedAssertion,
    audience: str,
    now: dt.datetime | None = None,
    recipient: str | None = None,
) -> None:
    """Audience is this landlord, the assertion is valid now, and lives five minutes at most.

    An assertion without any audience restriction (Keystone's) must name ``recipient``, the
    endpoint of this landlord it was delivered to, as its bearer Recipient instead.
    """
    now = now or dt.datetime.now(dt.UTC)
    if assertion.audience or recipient is None:
        if audience not in assertion.audience:
            raise SamlError(f"The SAML assertion is for another audience, not {audience!r}.")
    elif recipient not in assertion.recipients:
        raise SamlError(f"The SAML assertion is for another recipient, not {recipient!r}.")
    if assertion.not_before > now + SKEW:
        raise SamlError("The SAML assertion is not valid yet.")
    if assertion.not_on_or_after <= now - SKEW:
        raise SamlError("The SAML assertion has expired.")
    if assertion.not_on_or_after - assertion.not_before > MAX_LIFETIME + SKEW:
        raise SamlError("The SAML assertion lives longer than five minutes.")
    if not assertion.id:
        raise SamlError("The SAML assertion has no ID.")
