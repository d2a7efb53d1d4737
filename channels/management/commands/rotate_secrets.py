"""Re-encrypt every stored channel credential under the newest FIELD_ENCRYPTION_KEYS key.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it),
deploy, run this command, then remove the old key.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from channels.crypto import SecretDict
from channels.models import ChannelAccount, ChannelConnection
from channels.services import channel_account_reencrypt
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import all_shops_access


class Command(BaseCommand):
    help = "Re-encrypt channel credentials with the newest key in FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        count = 0
        with all_shops_access(), acting_as(Actor(door=Door.CLI, label="rotate_secrets")):
            ids = list(ChannelAccount.all_shops.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), 500):
                with transaction.atomic():
                    accounts = ChannelAccount.all_shops.select_for_update().filter(pk__in=ids[start : start + 500])
                    for account in accounts:
                        channel_account_reencrypt(account=account)
                        count += 1
            # Connections under way hold a code or tokens until the account is written.
            pending = 0
            for connection in (
                ChannelConnection.all_shops.exclude(
                    status__in=[ChannelConnection.Status.CONNECTED, ChannelConnection.Status.FAILED]
                )
                .only("pk", "secrets")
                .iterator()
            ):
                ChannelConnection.all_shops.filter(pk=connection.pk).update(secrets=SecretDict(connection.secrets))
                pending += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the credentials of {count} channel accounts and {pending} connections under way."
            )
        )
