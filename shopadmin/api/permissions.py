"""Scope checks. A view names its scope family; reads need `<family>:read`, writes `<family>:write`.

A view sets `scope = "catalog"` (or `required_scopes = {"POST": "orders:write", ...}` for
exceptions; "" means any valid key); a write scope does not imply the read scope.
"""

from rest_framework import exceptions, permissions

from shopadmin.api.authentication import ApiClient


def required_scope(view, method: str) -> str | None:
    explicit = getattr(view, "required_scopes", None)
    if explicit and method in explicit:
        return explicit[method]
    family = getattr(view, "scope", None)
    if family is None:
        return None
    return f"{family}:read" if method in permissions.SAFE_METHODS else f"{family}:write"


class HasScope(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.user, ApiClient):
            raise exceptions.NotAuthenticated("Send `Authorization: Bearer <api key>`.")
        scope = required_scope(view, request.method)
        if scope is None:
            # Every API view must name its scope; refuse rather than allow by omission.
            raise exceptions.PermissionDenied("This endpoint has no scope configured.")
        if scope == "":
            return True
        if not request.auth.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the scope `{scope}`.", code="missing_scope")
        return True
