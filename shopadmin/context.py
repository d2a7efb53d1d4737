"""The current tenant: which shop the running code acts for (a ContextVar).

Kept apart from the models in ``shopadmin.tenancy`` so the database backend can read it
without importing models. Import these names from ``shopadmin.tenancy``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class TenantContextError(RuntimeError):
    """Tenant data was touched with no shop selected (or outside the all-shops path)."""


@dataclass(frozen=True)
class TenantContext:
    shop_id: int | None
    all_shops: bool = False


_current: ContextVar[TenantContext | None] = ContextVar("shopadmin_tenant", default=None)
# The signed-in person of a merchant UI request: row-level security lets them read their own
# memberships (of every shop), so the shop switcher and the membership check work before a
# shop is entered.
_user_id: ContextVar[int | None] = ContextVar("shopadmin_user_id", default=None)


def current_user_id() -> int | None:
    return _user_id.get()


def set_user_id(user_id: int | None):
    """Set the signed-in user's id and return a token for ``reset_user_id``."""
    return _user_id.set(user_id)


def reset_user_id(token) -> None:
    _user_id.reset(token)


def current_context() -> TenantContext | None:
    return _current.get()


def current_shop_id() -> int:
    ctx = _current.get()
    if ctx is None or ctx.shop_id is None:
        raise TenantContextError("No shop is selected for this request, task or command.")
    return ctx.shop_id


def set_context(ctx: TenantContext | None):
    """Set the context and return a token for ``reset_context``. Prefer the context managers."""
    return _current.set(ctx)


def reset_context(token) -> None:
    _current.reset(token)


@contextmanager
def shop_context(shop_or_id) -> Iterator[int]:
    shop_id = getattr(shop_or_id, "pk", shop_or_id)
    if shop_id is None:
        raise TenantContextError("shop_context needs a saved shop or a shop id.")
    token = _current.set(TenantContext(shop_id=int(shop_id)))
    try:
        yield int(shop_id)
    finally:
        _current.reset(token)


@contextmanager
def all_shops_access() -> Iterator[None]:
    """The explicit cross-shop path: staff admin and platform jobs only."""
    token = _current.set(TenantContext(shop_id=None, all_shops=True))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def no_shop() -> Iterator[None]:
    """Leave every tenant context, e.g. to prove that nothing is visible without one."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
