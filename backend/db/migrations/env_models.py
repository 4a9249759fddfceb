"""Every domain's models, imported so their tables are on Base.metadata for Alembic."""

import backend.auth.models
import backend.observability.audit_models
import backend.sync.models
import backend.system.models  # noqa: F401
