"""Horizon "enabled" files of the OCX plugin (added to ``openstack_dashboard.local.enabled``)."""
