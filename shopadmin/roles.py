"""Membership roles and what each may do. This table is the single source of truth.

| permission            | owner | admin | editor | viewer |
|-----------------------|:-----:|:-----:|:------:|:------:|
| view (everything)     |   ✓   |   ✓   |   ✓    |   ✓    |
| catalog.write         |   ✓   |   ✓   |   ✓    |        |
| localization.write    |   ✓   |   ✓   |   ✓    |        |
| channels.write        |   ✓   |   ✓   |   ✓    |        |
| orders.write          |   ✓   |   ✓   |   ✓    |        |
| shop.settings         |   ✓   |   ✓   |        |        |
| shop.members          |   ✓   |   ✓ * |        |        |
| shop.api_keys         |   ✓   |   ✓   |        |        |
| shop.audit_log        |   ✓   |   ✓   |        |        |
| shop.owners           |   ✓   |       |        |        |

* an admin manages admins, editors and viewers; only an owner grants, changes or removes
  the owner role.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm:
    VIEW = "view"
    CATALOG_WRITE = "catalog.write"
    LOCALIZATION_WRITE = "localization.write"
    CHANNELS_WRITE = "channels.write"
    ORDERS_WRITE = "orders.write"
    SHOP_SETTINGS = "shop.settings"
    SHOP_MEMBERS = "shop.members"
    SHOP_API_KEYS = "shop.api_keys"
    SHOP_AUDIT_LOG = "shop.audit_log"
    SHOP_OWNERS = "shop.owners"


_WRITE = {Perm.CATALOG_WRITE, Perm.LOCALIZATION_WRITE, Perm.CHANNELS_WRITE, Perm.ORDERS_WRITE}
_MANAGE = {Perm.SHOP_SETTINGS, Perm.SHOP_MEMBERS, Perm.SHOP_API_KEYS, Perm.SHOP_AUDIT_LOG}


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Viewer")

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS[self]

    def has_perm(self, perm: str) -> bool:
        return perm in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OWNER: frozenset({Perm.VIEW, *_WRITE, *_MANAGE, Perm.SHOP_OWNERS}),
    Role.ADMIN: frozenset({Perm.VIEW, *_WRITE, *_MANAGE}),
    Role.EDITOR: frozenset({Perm.VIEW, *_WRITE}),
    Role.VIEWER: frozenset({Perm.VIEW}),
}
