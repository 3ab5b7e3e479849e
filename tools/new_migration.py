import sys
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
loc, msg, rev = sys.argv[1], sys.argv[2], sys.argv[3]
eng = create_engine("sqlite:////tmp/gen.db")
with eng.begin() as conn:
    cfg = Config()
    cfg.set_main_option("script_location", loc)
    cfg.attributes["connection"] = conn
    cfg.attributes["version_table"] = "alembic_version_gen"
    command.upgrade(cfg, "head")
    command.revision(cfg, message=msg, autogenerate=True, rev_id=rev)
