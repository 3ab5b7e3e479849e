"""What the block-storage domain modules need of the running service (no import of it).

:class:`ocx.volume.service.VolumeService` is one; tests may pass another.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from ocx.common.db import Database
from ocx.volume.nbd import Exports
from ocx.volume.settings import VolumeSettings
from ocx.volume.storage import Storage


class Backend(Protocol):
    settings: VolumeSettings
    db: Database
    storage: Storage
    exports: Exports

    def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...
