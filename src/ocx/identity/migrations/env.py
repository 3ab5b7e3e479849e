from alembic import context

import ocx.identity.federation.models  # noqa: F401  (registers the federation tables)
from ocx.common.db import run_migrations
from ocx.identity.models import Base

run_migrations(context, Base.metadata)
