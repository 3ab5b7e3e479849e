"""The OIDC sign-in table. Clients, codes and refresh tokens live in ``federation/models.py``."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

import ocx.identity.federation.models  # noqa: F401  (the oidc_clients table the keys refer to)
from ocx.identity.models import ID, Base


class OidcSession(Base):
    """One sign-in of a user through a client: its code and its refresh tokens are one family.

    Every code and refresh token names its session (``<session id>.<secret>``), so replaying a
    used one revokes the whole family at once, and a refreshed ID token keeps the ``auth_time``
    of the sign-in it descends from.
    """

    __tablename__ = "oidc_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[float] = mapped_column(Float)
    # Absolute end: rotating refresh tokens never extends a sign-in past this.
    expires_at: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
