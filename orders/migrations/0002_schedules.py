from django.db import migrations

SCHEDULES = [
    # (name, task, every, period)
    ("orders: poll channel orders", "orders.poll_all", 5, "minutes"),
    ("orders: reconcile channel accounts", "orders.reconcile_all", 6, "hours"),
    ("orders: personal data retention", "orders.retention_all", 1, "days"),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    db = schema_editor.connection.alias
    for name, task, every, period in SCHEDULES:
        interval, _ = IntervalSchedule.objects.using(db).get_or_create(every=every, period=period)
        PeriodicTask.objects.using(db).update_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(schema_editor.connection.alias).filter(
        name__in=[name for name, *_ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
