"""Guards for merchant views. The middleware has already resolved the shop and membership."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from shopadmin.roles import Perm


def shop_view(perm: str = Perm.VIEW):
    """A merchant page of the shop in the URL, for members whose role grants `perm`."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:
                raise Http404("No such shop.")
            if not membership.has_perm(perm):
                raise PermissionDenied("Your role in this shop does not allow this.")
            kwargs.pop("shop_slug", None)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
