"""The OS-FEDERATION URL table."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ocx.identity.federation import api, auth_api, websso
from ocx.identity.routes_base import route

IDP = "/v3/OS-FEDERATION/identity_providers/{idp_id}"
PROTOCOL = IDP + "/protocols/{protocol_id}"
WEBSSO_IDP = "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/websso"


def routes() -> list[BaseRoute]:
    return [
        route("/v3/OS-FEDERATION/identity_providers", api.list_idps, "GET"),
        route(IDP, api.create_idp, "PUT"),
        route(IDP, api.get_idp, "GET"),
        route(IDP, api.update_idp, "PATCH"),
        route(IDP, api.delete_idp, "DELETE"),
        route(IDP + "/protocols", api.list_protocols, "GET"),
        route(PROTOCOL, api.create_protocol, "PUT"),
        route(PROTOCOL, api.get_protocol, "GET"),
        route(PROTOCOL, api.update_protocol, "PATCH"),
        route(PROTOCOL, api.delete_protocol, "DELETE"),
        route(PROTOCOL + "/auth", auth_api.federated_auth, "GET", "POST"),
        route(PROTOCOL + "/ecp", auth_api.federated_auth, "POST"),
        route(WEBSSO_IDP, websso.start_for_idp, "GET"),
        route(websso.CALLBACK, websso.callback, "GET"),
        route("/v3/auth/OS-FEDERATION/websso/{protocol_id}", websso.start, "GET"),
        route("/v3/OS-FEDERATION/mappings", api.list_mappings, "GET"),
        route("/v3/OS-FEDERATION/mappings/{mapping_id}", api.create_mapping, "PUT"),
        route("/v3/OS-FEDERATION/mappings/{mapping_id}", api.get_mapping, "GET"),
        route("/v3/OS-FEDERATION/mappings/{mapping_id}", api.update_mapping, "PATCH"),
        route("/v3/OS-FEDERATION/mappings/{mapping_id}", api.delete_mapping, "DELETE"),
        route("/v3/OS-FEDERATION/service_providers", api.list_sps, "GET"),
        route("/v3/OS-FEDERATION/service_providers/{sp_id}", api.create_sp, "PUT"),
        route("/v3/OS-FEDERATION/service_providers/{sp_id}", api.get_sp, "GET"),
        route("/v3/OS-FEDERATION/service_providers/{sp_id}", api.update_sp, "PATCH"),
        route("/v3/OS-FEDERATION/service_providers/{sp_id}", api.delete_sp, "DELETE"),
        route("/v3/OS-FEDERATION/projects", auth_api.federation_projects, "GET"),
        route("/v3/OS-FEDERATION/domains", auth_api.federation_domains, "GET"),
        route("/v3/OS-FEDERATION/saml2/metadata", auth_api.saml2_metadata, "GET"),
        route("/v3/auth/OS-FEDERATION/saml2", auth_api.saml2_assertion, "POST"),
        route("/v3/auth/OS-FEDERATION/saml2/ecp", auth_api.saml2_ecp, "POST"),
    ]
