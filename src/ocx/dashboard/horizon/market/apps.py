"""The plugin's Django app; also guards a Horizon page that assumes Neutron exists."""

from collections.abc import Callable
from typing import Any

from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "ocx.dashboard.horizon.market"
    label = "ocx_market"
    verbose_name = "OCX market"

    def ready(self) -> None:
        guard_network_charts()
        merge_services_of_a_type()
        cinder_without_what_ocx_lacks()
        servers_without_networks()
        swift_with_its_implicit_policy()
        parallel_calls_without_an_idle_wait()
        novaclient_with_the_sessions_token()
        limits_once_a_page()
        project_lists_kept()


def merge_services_of_a_type() -> None:
    """An OCX catalog may list two services of one type (a landlord's ``nova`` in RegionOne
    and the proxy's ``ocx-nova`` in region ``ocx``), as Keystone allows; Horizon looks only at
    the first service of a type, so the other region's endpoints were never found ("Invalid
    service catalog: compute"). Horizon sees one service per type with every endpoint."""
    from openstack_dashboard.api import base

    base.get_service_from_catalog = merged_service


def merged_service(catalog: Any, service_type: str) -> dict[str, Any] | None:
    found = [s for s in catalog or [] if s.get("type") == service_type]
    if not found:
        return None
    return {**found[0], "endpoints": [e for s in found for e in s.get("endpoints", [])]}


def guard_network_charts() -> None:
    """Horizon's project overview asks Neutron for its quota extension without checking that
    a network service exists, and fails (500) in a cloud without one, as every OCX landlord
    is. Show the network charts only where the catalog has a network service."""
    from openstack_dashboard.usage import views

    for section in views.CHART_DEFS:
        allowed = section.get("allowed")
        if callable(allowed) and not getattr(allowed, "ocx_guarded", False):
            section["allowed"] = _only_with_network(allowed)


def _only_with_network(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    from openstack_dashboard.api import base

    def allowed(request: Any) -> bool:
        return bool(base.is_service_enabled(request, "network")) and bool(check(request))

    allowed.ocx_guarded = True  # type: ignore[attr-defined]
    return allowed


def cinder_without_what_ocx_lacks() -> None:
    """OCX's Cinder (a landlord's, or the proxy's region ``ocx``) serves volumes, snapshots,
    types, attachments, limits and availability zones, but not volume transfers, groups, or the
    legacy extension list. Horizon's volume pages call all three and treat only a 403 as "none",
    so a 404 failed the whole volume list and sent the create form back to the index. Here a
    404 for transfers or groups reads as "there are none", and availability zones are offered
    when the service answers ``os-availability-zone`` (what the extension list would say)."""
    from cinderclient import exceptions as cinder_exc
    from openstack_dashboard.api import cinder

    def none_if_absent(call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            except cinder_exc.NotFound:
                return []

        wrapped.ocx_guarded = True  # type: ignore[attr-defined]
        return wrapped

    for name in ("transfer_list", "group_list"):
        if not getattr(getattr(cinder, name), "ocx_guarded", False):
            setattr(cinder, name, none_if_absent(getattr(cinder, name)))
    listed = cinder.extension_supported

    def extension_supported(request: Any, extension_name: str) -> bool:
        try:
            return bool(listed(request, extension_name))
        except cinder_exc.NotFound:
            if extension_name != "AvailabilityZones":
                return False
        try:
            cinder.availability_zone_list(request)
        except cinder_exc.ClientException:
            return False
        return True

    cinder.extension_supported = extension_supported


def servers_without_networks() -> None:
    """OCX has no network service, and Nova (2.37 on) wants a server create to say which
    networks it joins: Horizon's launch wizard, finding no Neutron, names none, and novaclient
    refused to send the request ("nics are required after microversion 2.36"). A create that
    names no networks asks for ``none`` (as ``openstack server create --network none``): it is
    only ever a request novaclient would otherwise refuse to send."""
    from novaclient.v2 import servers

    create = servers.ServerManager.create
    if getattr(create, "ocx_guarded", False):
        return

    def create_without_networks(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("nics"):
            kwargs["nics"] = "none"
        return create(self, *args, **kwargs)

    create_without_networks.ocx_guarded = True  # type: ignore[attr-defined]
    servers.ServerManager.create = create_without_networks


def swift_with_its_implicit_policy() -> None:
    """Swift with no storage policies configured has one, ``Policy-0``, the default; OCX's
    object stores say so on every container (``X-Storage-Policy: Policy-0``) but their
    ``/info`` lists no ``policies``, and Horizon's container form (a required policy field)
    failed on the missing key. Capabilities without policies read as that one policy."""
    from openstack_dashboard.api import swift

    capabilities = swift.swift_get_capabilities
    if getattr(capabilities, "ocx_guarded", False):
        return

    def with_policy(request: Any) -> Any:
        found = capabilities(request)
        if isinstance(found, dict) and isinstance(found.get("swift"), dict):
            found["swift"].setdefault("policies", [{"name": "Policy-0", "default": True}])
        return found

    with_policy.ocx_guarded = True  # type: ignore[attr-defined]
    swift.swift_get_capabilities = with_policy


def parallel_calls_without_an_idle_wait() -> None:
    """Horizon's parallel calls on the standard library's thread pool: futurist's kept every
    one at least a second (see ``market/parallel.py``), two of the Instances panel's."""
    from openstack_dashboard.utils import futurist_utils

    from ocx.dashboard.horizon.market import parallel

    futurist_utils.call_functions_parallel = parallel.call_functions_parallel


def novaclient_with_the_sessions_token() -> None:
    """Horizon's novaclient sends the session's token as is, as its openstacksdk calls do.
    Given a token and an identity URL, novaclient trades the token for a new one first
    (keystoneauth's ``Token`` plugin: a version document and ``POST /v3/auth/tokens``), for
    each client, twice an Instances page; the new token has the session's user, project,
    roles and expiry, so nothing is gained, and each new token is one more the services
    verify."""
    from horizon.utils import memoized
    from keystoneauth1 import session, token_endpoint
    from novaclient import client
    from openstack_dashboard.api import _nova

    if getattr(_nova.cached_novaclient, "ocx_guarded", False):
        return

    @memoized.memoized
    def cached_novaclient(request: Any, version: Any = None) -> Any:
        _user, token, _project, _domain, nova_url, _identity = _nova.get_auth_params_from_request(
            request
        )
        if version is None:
            version = _nova.VERSIONS.get_active_version()["version"]
        verify = False if _nova.INSECURE else (_nova.CACERT or True)
        auth = token_endpoint.Token(endpoint=nova_url, token=token)
        sess = session.Session(auth=auth, verify=verify)
        return client.Client(version, session=sess, endpoint_override=nova_url)

    cached_novaclient.ocx_guarded = True
    _nova.cached_novaclient = cached_novaclient


def limits_once_a_page() -> None:
    """Nova's and Cinder's ``/limits`` once a page, not once per button that checks the quota
    (see ``market/once.py``)."""
    from openstack_dashboard.api import cinder, nova

    from ocx.dashboard.horizon.market.once import once_per_page

    for api in (nova, cinder):
        if not getattr(api.tenant_absolute_limits, "ocx_guarded", False):
            api.tenant_absolute_limits = once_per_page(api.tenant_absolute_limits)


def project_lists_kept() -> None:
    """The user's project list (the project menu) kept per token for a while, not asked of
    the identity on every page and again by the page's header (see ``market/kept.py``)."""
    from openstack_auth import utils

    from ocx.dashboard.horizon.market.kept import PROJECTS_SECONDS, Kept, projects_kept

    if not getattr(utils.get_project_list, "ocx_guarded", False):
        utils.get_project_list = projects_kept(utils.get_project_list, Kept(PROJECTS_SECONDS, 1000))
