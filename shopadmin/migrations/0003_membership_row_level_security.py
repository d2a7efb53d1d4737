"""Forced row-level security on shopadmin_membership (see shopadmin.db.rls.MEMBERSHIP_USING)."""

from django.db import migrations


def install(apps, schema_editor):
    from shopadmin.db.rls import install_membership_security

    install_membership_security(schema_editor)


def uninstall(apps, schema_editor):
    from shopadmin.db.rls import uninstall_membership_security

    uninstall_membership_security(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("shopadmin", "0002_schedule_idempotency_pruning")]

    operations = [migrations.RunPython(install, uninstall)]
