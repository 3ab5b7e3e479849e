"""How a store reaches its provider: the session's token and storage URL, kept a moment."""

from __future__ import annotations

from typing import Any

from ocx.vault.store import SessionAuth


class Session:
    """What SessionAuth asks of a keystoneauth1 session, counted."""

    def __init__(self) -> None:
        self.asked = 0
        self.invalidated = 0

    def get_endpoint(self, **_: Any) -> str:
        self.asked += 1
        return "http://store.example/v1/AUTH_x"

    def get_token(self) -> str:
        return f"token-{self.invalidated}"

    def invalidate(self) -> None:
        self.invalidated += 1


def test_the_session_is_asked_once_for_many_requests_and_again_on_renewal() -> None:
    session = Session()
    auth = SessionAuth(session)  # type: ignore[arg-type]
    first = [auth() for _ in range(10)]
    assert session.asked == 1 and {a.token for a in first} == {"token-0"}
    renewed = auth(True)  # a token the server refused: a new one at once
    assert session.asked == 2 and renewed.token == "token-1"
    assert auth().token == "token-1"
