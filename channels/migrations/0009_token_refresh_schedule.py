"""Schedule the token refresh: access tokens are renewed before they expire."""

from django.db import migrations

NAME = "channels: refresh access tokens that expire soon"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    db = schema_editor.connection.alias
    every_15_minutes, _ = IntervalSchedule.objects.using(db).get_or_create(every=15, period="minutes")
    PeriodicTask.objects.using(db).update_or_create(
        name=NAME, defaults={"task": "channels.tokens_refresh_due", "interval": every_15_minutes, "enabled": True}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(schema_editor.connection.alias).filter(
        name=NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0008_connections"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
