"""PostgreSQL backend that hands the tenant context to row-level security."""

from django.db.backends.postgresql import base

from shopadmin.db.rls import apply_tenant_settings


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(apply_tenant_settings)
