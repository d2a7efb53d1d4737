import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from catalog.services import catalog_import_commit, catalog_import_start
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, Job, Shop
from shopadmin.tenancy import shop_context


class Command(BaseCommand):
    help = (
        "Check a catalog CSV (the merchant UI's import), and with --commit import it: all rows or none. "
        "The work runs in the Celery worker, as it does for the UI and the API; this waits for it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8, with a header row)")
        parser.add_argument("--shop", required=True, help="the shop's slug")
        parser.add_argument("--commit", action="store_true", help="import the file when its check finds no errors")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each step (default 600)")

    def handle(self, *args, **options):
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop with the slug “{options['shop']}”.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with shop_context(shop), acting_as(Actor(door=Door.CLI, label="import_catalog")):
            with path.open("rb") as handle:
                try:
                    check = catalog_import_start(upload=File(handle, name=path.name))
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
            check = self._wait(check, options["timeout"])
            result = check.result
            self.stdout.write(
                f"Checked {result.get('rows', 0)} rows: {result.get('products_new', 0)} new products, "
                f"{result.get('products_updated', 0)} updated; {result.get('variants_new', 0)} new variants, "
                f"{result.get('variants_updated', 0)} updated."
            )
            errors = result.get("errors", [])
            for error in errors:
                column = f" ({error['column']})" if error.get("column") else ""
                self.stdout.write(f"  line {error.get('line')}{column}: {error.get('message')}")
            if check.error or result.get("error_count"):
                raise CommandError(check.error or f"{result['error_count']} errors; nothing was imported.")
            if not options["commit"]:
                self.stdout.write(self.style.SUCCESS("No errors. Run again with --commit to import."))
                return
            job = self._wait(catalog_import_commit(check=check), options["timeout"])
            if job.error:
                raise CommandError(job.error)
            self.stdout.write(self.style.SUCCESS("Imported."))

    def _wait(self, job: Job, timeout: float) -> Job:
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if job.is_finished:
                return job
            if time.monotonic() > deadline:
                raise CommandError(f"Job {job.pk} did not finish within {timeout:.0f}s: is a Celery worker running?")
            time.sleep(0.5)
