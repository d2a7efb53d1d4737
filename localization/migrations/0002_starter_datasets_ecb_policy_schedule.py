"""Starter reference data, the read policy for shared ECB rates, and the ECB fetch schedule."""

from decimal import Decimal

from django.db import migrations

from localization.datasets import starter_2025_11 as data


def load_datasets(apps, schema_editor):
    TaxRate = apps.get_model("localization", "TaxRate")
    CustomsRegime = apps.get_model("localization", "CustomsRegime")
    DutyRate = apps.get_model("localization", "DutyRate")
    DeMinimisRule = apps.get_model("localization", "DeMinimisRule")
    DatasetVersion = apps.get_model("localization", "DatasetVersion")
    db = schema_editor.connection.alias
    TaxRate.objects.using(db).bulk_create(
        TaxRate(
            country=c, region=r, category=cat, name=name, rate=Decimal(rate),
            effective_from=start, effective_to=end, source=src, last_checked=data.CHECKED,
        )
        for c, r, cat, name, rate, start, end, src in data.TAX_RATES
    )
    CustomsRegime.objects.using(db).bulk_create(
        CustomsRegime(
            country=c, duty_basis=basis, tax_base=base, import_tax_name=name, source=src,
            last_checked=data.CHECKED,
        )
        for c, basis, base, name, src in data.CUSTOMS_REGIMES
    )
    DutyRate.objects.using(db).bulk_create(
        DutyRate(
            destination=dest, origin=origin, hs_prefix=prefix, description=desc, kind=kind,
            ad_valorem=Decimal(av), specific_amount=Decimal(sp), specific_currency=cur,
            specific_unit=unit, effective_from=start, effective_to=end, source=src,
            last_checked=data.CHECKED,
        )
        for dest, origin, prefix, desc, kind, av, sp, cur, unit, start, end, src in data.DUTY_RATES
    )
    DeMinimisRule.objects.using(db).bulk_create(
        DeMinimisRule(
            code=code, country=c, applies_to=applies, effect=effect, threshold=Decimal(th),
            threshold_currency=cur, threshold_inclusive=incl, basis=basis, scope=scope,
            origins=origins, flat_amount=Decimal(flat), effective_from=start, effective_to=end,
            description=desc, source=src, last_checked=data.CHECKED,
        )
        for code, c, applies, effect, th, cur, incl, basis, scope, origins, flat, start, end, desc, src in data.DE_MINIMIS
    )
    DatasetVersion.objects.using(db).create(
        version=data.VERSION, notes="Starter tax, customs-regime, duty and de-minimis data shipped with the app."
    )


def unload_datasets(apps, schema_editor):
    for name in ("TaxRate", "CustomsRegime", "DutyRate", "DeMinimisRule", "DatasetVersion"):
        apps.get_model("localization", name).objects.using(schema_editor.connection.alias).all().delete()


def schedule_ecb_fetch(apps, schema_editor):
    # The ECB publishes around 16:00 CET on working days; fetch shortly after.
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    db = schema_editor.connection.alias
    crontab, _ = CrontabSchedule.objects.using(db).get_or_create(
        minute="30", hour="16", day_of_week="1-5", day_of_month="*", month_of_year="*",
        timezone="Europe/Berlin",
    )
    PeriodicTask.objects.using(db).update_or_create(
        name="localization: ECB reference rates",
        defaults={"task": "localization.ecb_rates_fetch", "crontab": crontab, "enabled": True},
    )


def unschedule_ecb_fetch(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(schema_editor.connection.alias).filter(
        name="localization: ECB reference rates"
    ).delete()


# Manual rates are tenant rows (row-level security); ECB rows have no shop and every shop
# may read them. Permissive policies are OR-ed with the tenant policy.
def add_ecb_read_policy(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE POLICY shared_reference_rates ON localization_exchangerate FOR SELECT USING (shop_id IS NULL)"
        )


def drop_ecb_read_policy(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP POLICY IF EXISTS shared_reference_rates ON localization_exchangerate")


class Migration(migrations.Migration):
    dependencies = [
        ("localization", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(load_datasets, unload_datasets),
        migrations.RunPython(add_ecb_read_policy, drop_ecb_read_policy),
        migrations.RunPython(schedule_ecb_fetch, unschedule_ecb_fetch),
    ]
