"""The OIDC provider's URL table: the OAuth endpoints and the client admin API."""

from __future__ import annotations

from starlette.routing import BaseRoute

from ocx.identity.oidc import api
from ocx.identity.oidc.provider import AUTHORIZE_PATH, DISCOVERY_PATH, TOKEN_PATH, USERINFO_PATH
from ocx.identity.routes_base import route

CLIENT = api.CLIENTS_PATH + "/{client_id}"


def routes() -> list[BaseRoute]:
    return [
        route(DISCOVERY_PATH, api.discovery, "GET"),
        route(AUTHORIZE_PATH, api.authorize, "GET", "POST"),
        route(TOKEN_PATH, api.token, "POST"),
        route(USERINFO_PATH, api.userinfo, "GET", "POST"),
        route(api.CLIENTS_PATH, api.create_client, "POST"),
        route(api.CLIENTS_PATH, api.list_clients, "GET"),
        route(CLIENT, api.get_client, "GET"),
        route(CLIENT, api.delete_client, "DELETE"),
    ]
