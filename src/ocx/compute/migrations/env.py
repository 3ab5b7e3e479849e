from alembic import context

from ocx.common.db import run_migrations
from ocx.compute.models import Base

run_migrations(context, Base.metadata)
