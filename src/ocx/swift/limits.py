"""Swift's constraints: what ``GET /info`` advertises and every request is held to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Limits(BaseModel):
    """Swift's default constraints; clients read them from ``/info``."""

    model_config = ConfigDict(frozen=True)

    max_file_size: int = 5 * 1024**3 + 2
    max_meta_name_length: int = 128
    max_meta_value_length: int = 256
    max_meta_count: int = 90
    max_meta_overall_size: int = 4096
    max_header_size: int = 8192
    max_object_name_length: int = 1024
    max_container_name_length: int = 256
    max_account_name_length: int = 256
    container_listing_limit: int = 10000
    account_listing_limit: int = 10000
    slo_max_segments: int = 1000
    slo_max_manifest_size: int = 8 * 1024 * 1024
    dlo_max_segments: int = 10000
    max_deletes_per_request: int = 10000
