from django.utils.functional import SimpleLazyObject

from shopadmin.models import Membership
from shopadmin.roles import Role


def shop(request):
    """The current shop and membership, and the user's shops for the switcher (lazily)."""
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)

    def my_memberships():
        if user is None or not user.is_authenticated:
            return []
        return list(Membership.objects.filter(user=user, shop__is_active=True).select_related("shop"))

    return {
        "current_shop": getattr(request, "shop", None),
        "current_membership": membership,
        # Templates ask `{% if "catalog.write" in shop_perms %}` to show or hide controls.
        "shop_perms": Role(membership.role).permissions if membership else frozenset(),
        "my_memberships": SimpleLazyObject(my_memberships),
    }
