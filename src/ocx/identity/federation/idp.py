"""This landlord as a Keystone-to-Keystone identity provider: SAML assertions for its users,
one service provider at a time, from a project-scoped token."""

from __future__ import annotations

import datetime as dt
import time

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity.federation import saml
from ocx.identity.federation.models import SamlKey, ServiceProvider
from ocx.identity.federation.trust import SESSION_END
from ocx.identity.models import Domain, Group, Membership, Project

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def entity_id(issuer: str) -> str:
    return f"{issuer}/v3/OS-FEDERATION/saml2/idp"


async def signing_key(session: AsyncSession, landlord: str) -> saml.SigningKey:
    """The landlord's SAML key, made on first use and kept in its database."""
    row = await session.scalar(select(SamlKey).order_by(SamlKey.id.desc()).limit(1))
    if row is None:
        made = saml.new_signing_key(f"OCX {landlord} identity provider")
        row = SamlKey(private_pem=made.private_pem, cert_pem=made.cert_pem, created_at=time.time())
        session.add(row)
        await session.flush()
    return saml.SigningKey(row.private_pem, row.cert_pem)


async def live_service_provider(session: AsyncSession, sp_id: str) -> ServiceProvider:
    sp = await session.get(ServiceProvider, sp_id)
    if sp is None:
        raise errors.NotFound(f"Could not find service provider: {sp_id}.")
    if not sp.enabled:
        raise errors.Forbidden(f"Service provider {sp_id} is disabled.")
    return sp


async def _attributes(session: AsyncSession, who: Principal) -> dict[str, list[str]]:
    project = await session.get(Project, who.project_id)
    user_domain = await session.get(Domain, who.user_domain_id)
    if project is None or user_domain is None:
        raise errors.Unauthorized("The token's project or domain no longer exists.")
    project_domain = await session.get(Domain, project.domain_id)
    groups = await session.scalars(
        select(Group.name)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == who.user_id)
    )
    return {
        "openstack_user": [who.user_name],
        "openstack_user_id": [who.user_id],
        "openstack_user_domain": [user_domain.name],
        "openstack_roles": list(who.roles),
        "openstack_project": [project.name],
        "openstack_project_domain": [project_domain.name if project_domain else ""],
        "openstack_groups": sorted(groups),
        SESSION_END: [dt.datetime.fromtimestamp(who.expires_at, dt.UTC).strftime(saml.ISO)],
    }


async def assertion_for(
    session: AsyncSession, who: Principal, sp: ServiceProvider, issuer: str, landlord: str
) -> tuple[etree._Element, saml.AssertionRequest]:
    """The signed SAML Response asserting ``who`` to ``sp``."""
    if who.project_id is None:
        raise errors.Forbidden("A SAML assertion needs a project-scoped token.")
    remaining = dt.timedelta(seconds=max(0.0, who.expires_at - time.time()))
    req = saml.AssertionRequest(
        issuer=entity_id(issuer),
        audience=sp.audience or sp.id,
        recipient=sp.sp_url,
        subject=who.user_name,
        attributes=await _attributes(session, who),
        lifetime=min(saml.MAX_LIFETIME, remaining),
    )
    signed = saml.build_assertion(req, await signing_key(session, landlord))
    return saml.response(signed, req), req


def metadata(issuer: str, cert_pem: str) -> bytes:
    """SAML metadata naming this IdP's entity id and signing certificate."""
    body = "".join(line for line in cert_pem.splitlines() if "-----" not in line)
    root = etree.Element(
        f"{{{MD}}}EntityDescriptor",
        {"entityID": entity_id(issuer)},
        nsmap={"md": MD, "ds": saml.DS},
    )
    idp = etree.SubElement(
        root,
        f"{{{MD}}}IDPSSODescriptor",
        {"protocolSupportEnumeration": "urn:oasis:names:tc:SAML:2.0:protocol"},
    )
    key = etree.SubElement(idp, f"{{{MD}}}KeyDescriptor", {"use": "signing"})
    info = etree.SubElement(key, f"{{{saml.DS}}}KeyInfo")
    data = etree.SubElement(info, f"{{{saml.DS}}}X509Data")
    etree.SubElement(data, f"{{{saml.DS}}}X509Certificate").text = body
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def certificate_from_metadata(document: bytes) -> tuple[str, str]:
    """(entity id, PEM certificate) of an IdP's metadata document."""
    root = saml.parse_document(document)
    cert = root.find(f".//{{{saml.DS}}}X509Certificate")
    if cert is None or not (cert.text or "").strip():
        raise saml.SamlError("The metadata has no signing certificate.")
    text = "".join((cert.text or "").split())
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
    return str(root.get("entityID")), pem
