"""South Asia reference data (localization.datasets.south_asia_2025_12), added to the starter's.

India's starter GST rows end on 21 Sep 2025 where the dataset's rows take over; unloading
deletes only this dataset's rows and reopens those two.
"""

from decimal import Decimal

from django.db import migrations

from localization.datasets import south_asia_2025_12 as data


def load_south_asia(apps, schema_editor):
    TaxRate = apps.get_model("localization", "TaxRate")
    CustomsRegime = apps.get_model("localization", "CustomsRegime")
    DutyRate = apps.get_model("localization", "DutyRate")
    db = schema_editor.connection.alias
    for country, region, category, start, end in data.TAX_RATES_ENDED:
        TaxRate.objects.using(db).filter(
            country=country, region=region, category=category, effective_from=start, effective_to__isnull=True
        ).update(effective_to=end)
    TaxRate.objects.using(db).bulk_create(
        TaxRate(
            country=c,
            region=r,
            category=cat,
            name=name,
            rate=Decimal(rate),
            effective_from=start,
            effective_to=end,
            source=src,
            last_checked=data.CHECKED,
        )
        for c, r, cat, name, rate, start, end, src in data.TAX_RATES
    )
    CustomsRegime.objects.using(db).bulk_create(
        CustomsRegime(
            country=c,
            duty_basis=basis,
            tax_base=base,
            import_tax_name=name,
            source=src,
            last_checked=data.CHECKED,
        )
        for c, basis, base, name, src in data.CUSTOMS_REGIMES
    )
    DutyRate.objects.using(db).bulk_create(
        DutyRate(
            destination=dest,
            origin=origin,
            hs_prefix=prefix,
            description=desc,
            kind=kind,
            ad_valorem=Decimal(av),
            specific_amount=Decimal(sp),
            specific_currency=cur,
            specific_unit=unit,
            effective_from=start,
            effective_to=end,
            source=src,
            last_checked=data.CHECKED,
        )
        for dest, origin, prefix, desc, kind, av, sp, cur, unit, start, end, src in data.DUTY_RATES
    )
    apps.get_model("localization", "DatasetVersion").objects.using(db).create(
        version=data.VERSION, notes="South Asian tax, customs-regime and duty data (Bangladesh, Pakistan, India, Sri Lanka)."
    )


def unload_south_asia(apps, schema_editor):
    apps.get_model("localization", "DatasetVersion").objects.using(schema_editor.connection.alias).filter(
        version=data.VERSION
    ).delete()
    TaxRate = apps.get_model("localization", "TaxRate")
    CustomsRegime = apps.get_model("localization", "CustomsRegime")
    DutyRate = apps.get_model("localization", "DutyRate")
    db = schema_editor.connection.alias
    for c, r, cat, _name, _rate, start, _end, _src in data.TAX_RATES:
        TaxRate.objects.using(db).filter(country=c, region=r, category=cat, effective_from=start).delete()
    for country, region, category, start, end in data.TAX_RATES_ENDED:
        TaxRate.objects.using(db).filter(
            country=country, region=region, category=category, effective_from=start, effective_to=end
        ).update(effective_to=None)
    CustomsRegime.objects.using(db).filter(country__in=[row[0] for row in data.CUSTOMS_REGIMES]).delete()
    for dest, origin, prefix, *_rest, start, _end, _src in data.DUTY_RATES:
        DutyRate.objects.using(db).filter(
            destination=dest, origin=origin, hs_prefix=prefix, effective_from=start
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("localization", "0007_rate_provider"),
    ]

    operations = [
        migrations.RunPython(load_south_asia, unload_south_asia),
    ]
