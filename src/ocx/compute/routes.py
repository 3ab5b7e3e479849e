"""The compute URL table: Nova v2.1 paths to handlers (project-less URLs, as since 2.18)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from ocx.compute.api import (
    admin,
    attachments,
    flavors,
    keypairs,
    limits,
    server_meta,
    servers,
    versions,
)

V = "/v2.1"
SERVER = V + "/servers/{server_id}"
FLAVOR = V + "/flavors/{flavor_id}"


def _r(path: str, endpoint: Callable[..., Any], *methods: str) -> APIRoute:
    return APIRoute(path, endpoint, methods=list(methods), response_model=None)


@functools.cache  # built once per process: FastAPI's analysis of each handler is costly
def routes() -> list[BaseRoute]:
    return [
        _r("/", versions.versions, "GET"),
        _r(V, versions.version, "GET"),
        _r(V + "/", versions.version, "GET"),
        *_servers(),
        *_flavors(),
        _r(V + "/os-keypairs", keypairs.index, "GET"),
        _r(V + "/os-keypairs", keypairs.create, "POST"),
        _r(V + "/os-keypairs/{name}", keypairs.show, "GET"),
        _r(V + "/os-keypairs/{name}", keypairs.delete, "DELETE"),
        _r(V + "/os-ocx-presenter", attachments.presenter, "GET"),
        _r(V + "/limits", limits.limits, "GET"),
        _r(V + "/os-quota-sets/{project_id}", limits.quota_set, "GET"),
        _r(V + "/os-quota-sets/{project_id}", limits.update_quota, "PUT"),
        _r(V + "/os-quota-sets/{project_id}/detail", limits.quota_detail, "GET"),
        _r(V + "/os-quota-sets/{project_id}/defaults", limits.quota_defaults, "GET"),
        _r(V + "/os-availability-zone", limits.zones, "GET"),
        _r(V + "/os-availability-zone/detail", limits.zones_detail, "GET"),
        _r(V + "/os-hypervisors", admin.hypervisors, "GET"),
        _r(V + "/os-hypervisors/detail", admin.hypervisors_detail, "GET"),
        _r(V + "/os-hypervisors/{hypervisor_id}", admin.hypervisor, "GET"),
        _r(V + "/os-services", admin.services, "GET"),
    ]


def _servers() -> list[BaseRoute]:
    return [
        _r(V + "/servers", servers.create, "POST"),
        _r(V + "/servers", servers.index, "GET"),
        _r(V + "/servers/detail", servers.detail, "GET"),
        _r(SERVER, servers.show, "GET"),
        _r(SERVER, servers.update, "PUT"),
        _r(SERVER, servers.delete, "DELETE"),
        _r(SERVER + "/action", servers.action, "POST"),
        _r(SERVER + "/os-volume_attachments", attachments.index, "GET"),
        _r(SERVER + "/os-volume_attachments", attachments.create, "POST"),
        _r(SERVER + "/os-volume_attachments/{volume_id}", attachments.show, "GET"),
        _r(SERVER + "/os-volume_attachments/{volume_id}", attachments.delete, "DELETE"),
        _r(SERVER + "/metadata", server_meta.metadata, "GET"),
        _r(SERVER + "/metadata", server_meta.merge_metadata, "POST"),
        _r(SERVER + "/metadata", server_meta.replace_metadata, "PUT"),
        _r(SERVER + "/metadata/{key}", server_meta.metadata_item, "GET"),
        _r(SERVER + "/metadata/{key}", server_meta.set_metadata_item, "PUT"),
        _r(SERVER + "/metadata/{key}", server_meta.delete_metadata_item, "DELETE"),
        _r(SERVER + "/tags", server_meta.tags, "GET"),
        _r(SERVER + "/tags", server_meta.replace_tags, "PUT"),
        _r(SERVER + "/tags", server_meta.clear_tags, "DELETE"),
        _r(SERVER + "/tags/{tag}", server_meta.has_tag, "GET"),
        _r(SERVER + "/tags/{tag}", server_meta.add_tag, "PUT"),
        _r(SERVER + "/tags/{tag}", server_meta.remove_tag, "DELETE"),
    ]


def _flavors() -> list[BaseRoute]:
    return [
        _r(V + "/flavors", flavors.index, "GET"),
        _r(V + "/flavors", flavors.create, "POST"),
        _r(V + "/flavors/detail", flavors.detail, "GET"),
        _r(FLAVOR, flavors.show, "GET"),
        _r(FLAVOR, flavors.update, "PUT"),
        _r(FLAVOR, flavors.delete, "DELETE"),
        _r(FLAVOR + "/action", flavors.action, "POST"),
        _r(FLAVOR + "/os-flavor-access", flavors.access_list, "GET"),
        _r(FLAVOR + "/os-extra_specs", flavors.extra_specs, "GET"),
        _r(FLAVOR + "/os-extra_specs", flavors.set_extra_specs, "POST"),
        _r(FLAVOR + "/os-extra_specs/{key}", flavors.extra_spec, "GET"),
        _r(FLAVOR + "/os-extra_specs/{key}", flavors.set_extra_spec, "PUT"),
        _r(FLAVOR + "/os-extra_specs/{key}", flavors.delete_extra_spec, "DELETE"),
    ]
