"""A keystoneauth1 auth plugin loader for Keystone-to-Keystone, so clouds.yaml can say
``auth_type: v3ocxk2k`` and the ``openstack`` CLI and openstacksdk reach a service provider
with a password at the user's home landlord.

keystoneauth1 ships the ``Keystone2Keystone`` plugin but no loader for it; this is that
loader, registered under the ``keystoneauth1.plugin`` entry point. Options are the home
landlord's (``auth_url``, ``username``, ``password``, ``user_domain_*``, ``home_project_*``),
the ``service_provider_id``, and the scope wanted there (``project_*``).
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import loading
from keystoneauth1.identity import v3
from keystoneauth1.loading import opts


class K2KPassword(loading.BaseLoader[v3.Keystone2Keystone]):
    @property
    def plugin_class(self) -> type[v3.Keystone2Keystone]:
        return v3.Keystone2Keystone

    def get_options(self) -> list[opts.Opt]:
        options = super().get_options()
        options.extend(
            [
                loading.Opt("auth-url", required=True, help="Home landlord's identity (v3) URL"),
                loading.Opt("username", required=True, help="User name at home"),
                loading.Opt("password", secret=True, required=True, help="Password at home"),
                loading.Opt("user-domain-id", help="User's domain id at home"),
                loading.Opt("user-domain-name", help="User's domain name at home"),
                loading.Opt("home-project-id", help="Project to scope the home token to"),
                loading.Opt("home-project-name", help="Project to scope the home token to"),
                loading.Opt("home-project-domain-id", help="Domain of the home project"),
                loading.Opt("home-project-domain-name", help="Domain of the home project"),
                # Not "service-provider": the openstack CLI has its own --os-service-provider.
                loading.Opt("service-provider-id", required=True, help="Service provider id"),
                loading.Opt("project-id", help="Project id at the service provider"),
                loading.Opt("project-name", help="Project name at the service provider"),
                loading.Opt("project-domain-id", help="Project's domain id there"),
                loading.Opt("project-domain-name", help="Project's domain name there"),
            ]
        )
        return options

    def create_plugin(self, **kwargs: Any) -> v3.Keystone2Keystone:
        home = v3.Password(
            auth_url=kwargs["auth_url"],
            username=kwargs["username"],
            password=kwargs["password"],
            user_domain_id=kwargs.get("user_domain_id"),
            user_domain_name=kwargs.get("user_domain_name"),
            project_id=kwargs.get("home_project_id"),
            project_name=kwargs.get("home_project_name"),
            project_domain_id=kwargs.get("home_project_domain_id"),
            project_domain_name=kwargs.get("home_project_domain_name"),
        )
        return v3.Keystone2Keystone(
            home,
            kwargs["service_provider_id"],
            project_id=kwargs.get("project_id"),
            project_name=kwargs.get("project_name"),
            project_domain_id=kwargs.get("project_domain_id"),
            project_domain_name=kwargs.get("project_domain_name"),
        )
