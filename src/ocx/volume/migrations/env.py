from alembic import context

from ocx.common.db import run_migrations
from ocx.volume.models import Base

run_migrations(context, Base.metadata)
