from django.core.management.base import BaseCommand
from django.db import transaction

from demo.catalog import seed_demo_catalog
from demo.dhaka import DHAKA_SLUG, seed_dhaka
from demo.markets import seed_demo_markets
from demo.orders import seed_demo_orders
from demo.story import seed_demo_story
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, Membership, Shop, User
from shopadmin.roles import Role
from shopadmin.services import shop_create
from shopadmin.tenancy import shop_context

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@shopadmin.local"
DEMO_PASSWORD = "demo-shopadmin"  # noqa: S105 — the demo's published sign-in
STAFF_EMAIL = "staff@shopadmin.local"


class Command(BaseCommand):
    help = "Create the demo shops with their owner and staff sign-ins (idempotent), and print them."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options):
        with acting_as(Actor(door=Door.CLI, label="seed_demo")), transaction.atomic():
            owner, created = User.objects.get_or_create(
                email=DEMO_EMAIL, defaults={"first_name": "Dana", "last_name": "Demo"}
            )
            if created:
                owner.set_password(DEMO_PASSWORD)
                owner.save()
            staff, created = User.objects.get_or_create(
                email=STAFF_EMAIL,
                defaults={"is_staff": True, "is_superuser": True, "first_name": "Sam"},
            )
            if created:
                staff.set_password(DEMO_PASSWORD)
                staff.save()
            shop = Shop.objects.filter(slug=DEMO_SLUG).first()
            fresh = shop is None
            if fresh:
                shop = shop_create(
                    name="Demo Outfitters",
                    slug=DEMO_SLUG,
                    currency="USD",
                    country="US",
                    language="en",
                    timezone_name="America/New_York",
                    owner=owner,
                )
            with shop_context(shop):
                Membership.objects.get_or_create(shop=shop, user=owner, defaults={"role": Role.OWNER})
                # In this order: each step builds on the ones before (the markets price the
                # catalog, the orders sell it, the story connects the channels, adds the history
                # and publishes).
                step = {"shop": shop, "owner": owner, "fresh": fresh, "base_url": options["base_url"]}
                seed_demo_catalog(**step)
                seed_demo_markets(**step)
                seed_demo_orders(**step)
                seed_demo_story(**step)
            # The second shop, for the shop switcher: Bengali, taka, a Pakistan market in Urdu.
            seed_dhaka(owner=owner, base_url=options["base_url"])
        base = options["base_url"].rstrip("/")
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Merchant UI: {base}/app/{DEMO_SLUG}/   sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  Dhaka shop:  {base}/app/{DHAKA_SLUG}/  same sign-in (or switch shop in the header)")
        self.stdout.write(f"  Staff admin: {base}/admin/          sign in as {STAFF_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  API docs:    {base}/api/docs/")
