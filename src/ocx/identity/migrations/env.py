from alembic import context

import ocx.identity.federation.models
import ocx.identity.oidc.models  # noqa: F401
from ocx.common.db import run_migrations
from ocx.identity.models import Base

run_migrations(context, Base.metadata)
