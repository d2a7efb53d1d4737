from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, User
from shopadmin.services import shop_create


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create a shop (and its home market); optionally make EMAIL its owner."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="URL name, e.g. alice-shop")
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", required=True, help="ISO 4217, e.g. USD")
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. US")
        parser.add_argument("--language", default="en")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--owner", metavar="EMAIL", help="an existing user, or a new one without a password")

    def handle(self, *args, **options):
        owner = None
        if options["owner"]:
            owner, created = User.objects.get_or_create(email=options["owner"].strip().lower())
            if created:
                owner.set_unusable_password()
                owner.save()
                self.stdout.write(f"Created user {owner.email}; they set a password with “Forgot password”.")
        try:
            with acting_as(Actor(door=Door.CLI, label="create_shop")):
                shop = shop_create(
                    name=options["name"],
                    slug=options["slug"],
                    currency=options["currency"],
                    country=options["country"],
                    language=options["language"],
                    timezone_name=options["timezone"],
                    owner=owner,
                )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Created shop {shop.slug} (id {shop.pk})."))
