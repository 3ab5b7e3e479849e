"""Image-service settings."""

from __future__ import annotations

from ocx.common.settings import ServiceSettings, VerifierSettings


class ImageSettings(ServiceSettings):
    verifier: VerifierSettings
    max_image_size: int = 1024**4
    chunk_size: int = 1024 * 1024
    # How long an upload may wait for its next chunk before it is abandoned.
    read_timeout: float = 60.0
    list_default: int = 25
    list_max: int = 1000
    # Images a list request may look at before sorting; a listing is never unbounded.
    list_scan_max: int = 100_000
