import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shopadmin.audit import Actor, acting_as
from shopadmin.management.commands.create_shop import validation_message
from shopadmin.models import Door, Shop
from shopadmin.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a shop and print it (once: it is stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, metavar="SLUG")
        parser.add_argument("--scopes", required=True, help="comma-separated, e.g. catalog:read,orders:read")
        parser.add_argument("--name", default="", help="defaults to 'cli-<n>'")

    def handle(self, *args, **options):
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"No shop with slug “{options['shop']}”.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        name = options["name"] or f"cli-{shop.pk}-{secrets.token_hex(3)}"
        try:
            with acting_as(Actor(door=Door.CLI, label="create_api_key")):
                _api_key, key = api_key_create(shop=shop, name=name, scopes=scopes)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(key)
