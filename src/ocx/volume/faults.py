"""Block-storage errors in Cinder's words, on top of the one tree in ocx.common.errors."""

from __future__ import annotations

from ocx.common import errors


class VersionNotAcceptable(errors.OCXError):
    status, title, nova_name = 406, "Not Acceptable", "computeFault"


def volume_not_found(volume_id: str) -> errors.NotFound:
    return errors.NotFound(f"Volume {volume_id} could not be found.")


def snapshot_not_found(snapshot_id: str) -> errors.NotFound:
    return errors.NotFound(f"Snapshot {snapshot_id} could not be found.")


def type_not_found(type_id: str) -> errors.NotFound:
    return errors.NotFound(f"Volume type {type_id} could not be found.")


def attachment_not_found(attachment_id: str) -> errors.NotFound:
    return errors.NotFound(f"Volume attachment could not be found with filter: {attachment_id}.")


def invalid_volume(reason: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid volume: {reason}")


def invalid_snapshot(reason: str) -> errors.BadRequest:
    return errors.BadRequest(f"Invalid snapshot: {reason}")


def over_quota(message: str) -> errors.RequestEntityTooLarge:
    return errors.RequestEntityTooLarge(message, headers={"Retry-After": "0"})
