from django.db import migrations

TASK_NAME = "shopadmin: prune idempotency keys"


def schedule(apps, schema_editor):
    # Idempotency keys are promised for 24 hours; prune hourly so the table stays small.
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    db = schema_editor.connection.alias
    hourly, _ = IntervalSchedule.objects.using(db).get_or_create(every=1, period="hours")
    PeriodicTask.objects.using(db).update_or_create(
        name=TASK_NAME, defaults={"task": "shopadmin.prune_idempotency_keys", "interval": hourly, "enabled": True}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(schema_editor.connection.alias).filter(
        name=TASK_NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shopadmin", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
