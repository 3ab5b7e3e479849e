"""The legacy extension list (``GET /v3/extensions``): what this Cinder serves beyond the core,
named as Cinder names it, for the clients that still ask (cinderclient's ``list-extensions``,
Horizon's ``extension_supported``, which otherwise reads a 404 as a failure).

Only what is served is listed: no availability zones (a landlord has one zone and no
``os-availability-zone``), no backups, transfers, groups, services, QoS or encryption.
"""

from __future__ import annotations

from typing import Any

UPDATED = "2026-11-27T00:00:00+00:00"

# (name, alias, what it is here)
SERVED: tuple[tuple[str, str, str], ...] = (
    ("AdminActions", "os-admin-actions", "Volume actions for admins: reset status, force delete."),
    (
        "ExtendedSnapshotAttributes",
        "os-extended-snapshot-attributes",
        "A snapshot's project and progress in its view.",
    ),
    ("QuotaSets", "os-quota-sets", "Quotas of a project: show, defaults, update, delete."),
    ("TypesExtraSpecs", "os-types-extra-specs", "Extra specs of a volume type."),
    ("TypesManage", "os-types-manage", "Volume types made, changed and deleted by admins."),
    ("UsedLimits", "os-used-limits", "What a project uses, beside its limits."),
    (
        "VolumeActions",
        "os-volume-actions",
        "Volume actions: extend, bootable and read-only flags, reserve and detach steps.",
    ),
    ("VolumeHostAttribute", "os-vol-host-attr", "A volume's host in an admin's view."),
    (
        "VolumeMigStatusAttribute",
        "os-vol-mig-status-attr",
        "A volume's migration status in an admin's view (never migrating).",
    ),
    ("VolumeTenantAttribute", "os-vol-tenant-attr", "A volume's project in its view."),
    ("VolumeTypeAccess", "os-volume-type-access", "Private volume types and who may use them."),
)


def listing() -> list[dict[str, Any]]:
    return [
        {"name": name, "alias": alias, "description": text, "links": [], "updated": UPDATED}
        for name, alias, text in SERVED
    ]
