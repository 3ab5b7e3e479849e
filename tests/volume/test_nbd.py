"""The NBD exports themselves: who may hold them, who may connect, and what a stranger can hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocx.volume.nbd import Exports


def test_a_second_process_cannot_serve_the_same_exports(tmp_path: Path) -> None:
    first, second = Exports(tmp_path, "127.0.0.1"), Exports(tmp_path, "127.0.0.1")
    first.prepare()
    first.prepare()  # the owner may prepare again (a restart in the same process)
    with pytest.raises(RuntimeError, match="one process"):
        second.prepare()
    first.release()
    second.prepare()
    second.release()
