"""The identity URL table: Keystone v3 paths to handlers."""

from __future__ import annotations

import functools

from starlette.routing import BaseRoute

from ocx.identity.api import (
    appcreds,
    auth,
    catalog,
    credentials,
    delegations,
    implied_roles,
    market,
    oauth1,
    resources,
    roles,
    tags,
    users,
)
from ocx.identity.assignments import DOMAIN, GROUP, PROJECT, SYSTEM, USER
from ocx.identity.federation.routes import routes as federation_routes
from ocx.identity.oidc.routes import routes as oidc_routes
from ocx.identity.routes_base import route

IMPLIES = "/v3/roles/{prior_role_id}/implies/{implied_role_id}"
CREDENTIAL = "/v3/credentials/{credential_id}"
ENDPOINT_GROUPS = "/v3/OS-EP-FILTER/endpoint_groups"
ENDPOINT_GROUP = ENDPOINT_GROUPS + "/{item_id}"
POLICY = "/v3/policies/{item_id}"
CONSUMERS = "/v3/OS-OAUTH1/consumers"
CONSUMER = CONSUMERS + "/{consumer_id}"
ACCESS_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
ACCESS_TOKEN = ACCESS_TOKENS + "/{access_token_id}"


def _grant_routes() -> list[BaseRoute]:
    table = []
    for target_type, prefix in (
        (PROJECT, "/v3/projects/{target_id}"),
        (DOMAIN, "/v3/domains/{target_id}"),
    ):
        for actor_type in (USER, GROUP):
            table += _grant_set(
                f"{prefix}/{actor_type}s/{{actor_id}}/roles", target_type, actor_type
            )
            inherit = (
                f"/v3/OS-INHERIT/{target_type}s/{{target_id}}/{actor_type}s/{{actor_id}}/roles"
            )
            table += _grant_set(
                inherit, target_type, actor_type, inherited=True, suffix="/inherited_to_projects"
            )
    for actor_type in (USER, GROUP):
        table += _grant_set(f"/v3/system/{actor_type}s/{{actor_id}}/roles", SYSTEM, actor_type)
    return table


def _grant_set(
    prefix: str, target_type: str, actor_type: str, *, inherited: bool = False, suffix: str = ""
) -> list[BaseRoute]:
    h = roles.grant_handlers(target_type, actor_type, inherited)
    one = f"{prefix}/{{role_id}}{suffix}"
    return [
        route(one, h["put"], "PUT"),
        route(one, h["check"], "HEAD", "GET"),
        route(one, h["remove"], "DELETE"),
        route(f"{prefix}{suffix}", h["list"], "GET"),
    ]


@functools.cache  # built once per process: FastAPI's analysis of each handler is costly
def routes() -> list[BaseRoute]:
    return [
        route("/", auth.versions, "GET"),
        route("/v3", auth.version_v3, "GET"),
        route("/v3/", auth.version_v3, "GET"),
        route("/.well-known/jwks.json", auth.jwks, "GET"),
        route("/v3/OS-REVOKE/events", auth.revocation_events, "GET"),
        route("/v3/OS-OCX/market/sign", market.sign_statement, "POST"),
        route("/v3/OS-OCX/delegations", delegations.issue, "POST"),
        route("/v3/OS-OCX/delegations", delegations.revoke, "DELETE"),
        route("/v3/auth/tokens", auth.issue_token, "POST"),
        route("/v3/auth/tokens", auth.validate_token, "GET"),
        route("/v3/auth/tokens", auth.check_token, "HEAD"),
        route("/v3/auth/tokens", auth.revoke_token, "DELETE"),
        route("/v3/auth/catalog", auth.auth_catalog, "GET"),
        route("/v3/auth/projects", auth.auth_projects, "GET"),
        route("/v3/auth/domains", auth.auth_domains, "GET"),
        route("/v3/auth/system", auth.auth_system, "GET"),
        route("/v3/domains", resources.create_domain, "POST"),
        route("/v3/domains", resources.domains.list(), "GET"),
        route("/v3/domains/{domain_id}", resources.get_domain, "GET"),
        route("/v3/domains/{domain_id}", resources.update_domain, "PATCH"),
        route("/v3/domains/{domain_id}", resources.delete_domain, "DELETE"),
        route("/v3/projects", resources.create_project, "POST"),
        route("/v3/projects", resources.list_projects, "GET"),
        route("/v3/projects/{project_id}", resources.get_project, "GET"),
        route("/v3/projects/{project_id}", resources.update_project, "PATCH"),
        route("/v3/projects/{project_id}", resources.delete_project, "DELETE"),
        route("/v3/projects/{project_id}/tags", tags.list_tags, "GET"),
        route("/v3/projects/{project_id}/tags", tags.replace_tags, "PUT"),
        route("/v3/projects/{project_id}/tags", tags.delete_tags, "DELETE"),
        route("/v3/projects/{project_id}/tags/{tag}", tags.check_tag, "GET", "HEAD"),
        route("/v3/projects/{project_id}/tags/{tag}", tags.add_tag, "PUT"),
        route("/v3/projects/{project_id}/tags/{tag}", tags.delete_tag, "DELETE"),
        route("/v3/users", users.create_user, "POST"),
        route("/v3/users", users.users.list(), "GET"),
        route("/v3/users/{user_id}", users.get_user, "GET"),
        route("/v3/users/{user_id}", users.update_user, "PATCH"),
        route("/v3/users/{user_id}", users.delete_user, "DELETE"),
        route("/v3/users/{user_id}/password", users.change_password, "POST"),
        route("/v3/users/{user_id}/projects", users.user_projects, "GET"),
        route("/v3/users/{user_id}/groups", users.user_groups, "GET"),
        route("/v3/users/{user_id}/application_credentials", appcreds.create_app_cred, "POST"),
        route("/v3/users/{user_id}/application_credentials", appcreds.list_app_creds, "GET"),
        route(
            "/v3/users/{user_id}/application_credentials/{cred_id}", appcreds.get_app_cred, "GET"
        ),
        route(
            "/v3/users/{user_id}/application_credentials/{cred_id}",
            appcreds.delete_app_cred,
            "DELETE",
        ),
        route("/v3/groups", users.create_group, "POST"),
        route("/v3/groups", users.groups.list(), "GET"),
        route("/v3/groups/{group_id}", users.get_group, "GET"),
        route("/v3/groups/{group_id}", users.update_group, "PATCH"),
        route("/v3/groups/{group_id}", users.delete_group, "DELETE"),
        route("/v3/groups/{group_id}/users", users.group_members, "GET"),
        route("/v3/groups/{group_id}/users/{user_id}", users.add_member, "PUT"),
        route("/v3/groups/{group_id}/users/{user_id}", users.check_member, "HEAD", "GET"),
        route("/v3/groups/{group_id}/users/{user_id}", users.remove_member, "DELETE"),
        route("/v3/roles", roles.create_role, "POST"),
        route("/v3/roles", roles.roles.list(), "GET"),
        route("/v3/roles/{item_id}", roles.roles.get(), "GET"),
        route(
            "/v3/roles/{item_id}",
            roles.roles.update(roles.RolePatchBody, exclude=frozenset({"options"})),
            "PATCH",
        ),
        route("/v3/roles/{role_id}", roles.delete_role, "DELETE"),
        route("/v3/role_assignments", roles.list_role_assignments, "GET"),
        route("/v3/role_inferences", implied_roles.list_all, "GET"),
        route("/v3/roles/{prior_role_id}/implies", implied_roles.list_for, "GET"),
        route(IMPLIES, implied_roles.create, "PUT"),
        route(IMPLIES, implied_roles.show, "GET"),
        route(IMPLIES, implied_roles.check, "HEAD"),
        route(IMPLIES, implied_roles.delete, "DELETE"),
        *_grant_routes(),
        route("/v3/credentials", credentials.create_credential, "POST"),
        route("/v3/credentials", credentials.list_credentials, "GET"),
        route(CREDENTIAL, credentials.get_credential, "GET"),
        route(CREDENTIAL, credentials.update_credential, "PATCH"),
        route(CREDENTIAL, credentials.delete_credential, "DELETE"),
        route(ENDPOINT_GROUPS, credentials.create_endpoint_group, "POST"),
        route(ENDPOINT_GROUPS, credentials.endpoint_groups.list(), "GET"),
        route(ENDPOINT_GROUP, credentials.endpoint_groups.get(), "GET"),
        route(ENDPOINT_GROUP, credentials.check_endpoint_group, "HEAD"),
        route(
            ENDPOINT_GROUP,
            credentials.endpoint_groups.update(credentials.EndpointGroupPatchBody),
            "PATCH",
        ),
        route(ENDPOINT_GROUP, credentials.endpoint_groups.delete(), "DELETE"),
        route("/v3/policies", credentials.create_policy, "POST"),
        route("/v3/policies", credentials.policies.list(), "GET"),
        route(POLICY, credentials.policies.get(), "GET"),
        route(POLICY, credentials.policies.update(credentials.PolicyPatchBody), "PATCH"),
        route(POLICY, credentials.policies.delete(), "DELETE"),
        route(CONSUMERS, oauth1.create_consumer, "POST"),
        route(CONSUMERS, oauth1.list_consumers, "GET"),
        route(CONSUMER, oauth1.get_consumer, "GET"),
        route(CONSUMER, oauth1.update_consumer, "PATCH"),
        route(CONSUMER, oauth1.delete_consumer, "DELETE"),
        route("/v3/OS-OAUTH1/request_token", oauth1.request_token, "POST"),
        route("/v3/OS-OAUTH1/authorize/{request_token_id}", oauth1.authorize, "PUT"),
        route("/v3/OS-OAUTH1/access_token", oauth1.access_token, "POST"),
        route(ACCESS_TOKENS, oauth1.list_access_tokens, "GET"),
        route(ACCESS_TOKEN, oauth1.get_access_token, "GET"),
        route(ACCESS_TOKEN, oauth1.delete_access_token, "DELETE"),
        route(ACCESS_TOKEN + "/roles", oauth1.access_token_roles, "GET"),
        route(ACCESS_TOKEN + "/roles/{role_id}", oauth1.access_token_role, "GET"),
        route("/v3/regions", catalog.create_region, "POST"),
        route("/v3/regions", catalog.regions.list(), "GET"),
        route("/v3/regions/{item_id}", catalog.regions.get(), "GET"),
        route("/v3/regions/{region_id}", catalog.put_region, "PUT"),
        route("/v3/regions/{region_id}", catalog.update_region, "PATCH"),
        route("/v3/regions/{item_id}", catalog.regions.delete(in_use="endpoints"), "DELETE"),
        route("/v3/services", catalog.create_service, "POST"),
        route("/v3/services", catalog.services.list(), "GET"),
        route("/v3/services/{item_id}", catalog.services.get(), "GET"),
        route("/v3/services/{item_id}", catalog.services.update(catalog.ServicePatchBody), "PATCH"),
        route("/v3/services/{item_id}", catalog.services.delete(), "DELETE"),
        route("/v3/endpoints", catalog.create_endpoint, "POST"),
        route("/v3/endpoints", catalog.endpoints.list(), "GET"),
        route("/v3/endpoints/{item_id}", catalog.endpoints.get(), "GET"),
        route("/v3/endpoints/{endpoint_id}", catalog.update_endpoint, "PATCH"),
        route("/v3/endpoints/{item_id}", catalog.endpoints.delete(), "DELETE"),
        *federation_routes(),
        *oidc_routes(),
    ]
