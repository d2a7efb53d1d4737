"""Sets the tenant context and the audit actor for each request, and always resets them."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import Http404
from django.utils import timezone

from shopadmin.audit import Actor, reset_actor, set_actor
from shopadmin.context import reset_user_id, set_user_id
from shopadmin.models import Door, Membership
from shopadmin.tenancy import TenantContext, reset_context, set_context

ADMIN_PREFIX = "/admin/"


class TenantContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Start every request with no tenant, and restore afterwards, so a thread that
        # serves the next request never inherits this one's shop.
        tenant_token = set_context(None)
        actor_token = set_actor(Actor(door=Door.SYSTEM))
        # Row-level security lets the signed-in person read their own memberships (and only
        # those, until a shop is entered): the membership check below and the shop switcher.
        user = getattr(request, "user", None)
        user_token = set_user_id(user.pk if user is not None and user.is_authenticated else None)
        request.shop = None
        request.membership = None
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            reset_user_id(user_token)
            reset_actor(actor_token)
            reset_context(tenant_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(ADMIN_PREFIX):
            if request.user.is_authenticated and request.user.is_staff:
                set_context(TenantContext(shop_id=None, all_shops=True))
                set_actor(Actor(door=Door.ADMIN, user=request.user))
            return None
        slug = view_kwargs.get("shop_slug")
        if slug is None or not request.user.is_authenticated:
            return None
        membership = (
            Membership.objects.select_related("shop", "user")
            .filter(shop__slug=slug, shop__is_active=True, user=request.user)
            .first()
        )
        if membership is None:
            # Not a member: the shop does not exist as far as this user can tell.
            raise Http404("No such shop.")
        request.shop = membership.shop
        request.membership = membership
        set_context(TenantContext(shop_id=membership.shop_id))
        set_actor(Actor(door=Door.UI, user=request.user))
        # Merchant pages show dates and times in the shop's time zone, not the server's.
        try:
            timezone.activate(ZoneInfo(membership.shop.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return None
