"""The SQL engine: one writer and many readers over the database, migrations, the model base."""

from backend.db.base import Base
from backend.db.engine import Database

__all__ = ["Base", "Database"]
