import time

from django.core.management.base import BaseCommand, CommandError

from catalog.seeding import seed_catalog
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, Shop
from shopadmin.tenancy import shop_context


class Command(BaseCommand):
    help = "Add a realistic apparel catalog (options, images, stock in 2 locations) to a shop, in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="the shop's slug")
        parser.add_argument("--variants", type=int, default=1000, help="how many variants to create")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")

    def handle(self, *args, **options):
        if options["variants"] <= 0:
            raise CommandError("--variants must be a positive number.")
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop with the slug “{options['shop']}”. Create it with create_shop first.")
        started = time.perf_counter()

        def progress(made):
            self.stdout.write(f"  {made['variants']} variants…")

        with shop_context(shop), acting_as(Actor(door=Door.CLI, label="seed_catalog")):
            made = seed_catalog(shop=shop, variants=options["variants"], seed=options["seed"], progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {shop.slug}: {made['products']} products, {made['variants']} variants, "
                f"{made['stock_levels']} stock levels, {made['media']} images in {seconds:.1f}s."
            )
        )
