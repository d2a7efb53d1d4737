"""The audit log: who (user or API key) changed what, when, and through which door.

Doors set the actor (middleware, API authentication, the task wrapper, commands);
services call ``audit_record`` inside their transaction.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import translation

from shopadmin.models import AuditLogEntry, Door
from shopadmin.words import Words


@dataclass(frozen=True)
class Actor:
    door: str
    user: Any = None
    api_key: Any = None
    label: str = ""

    @property
    def description(self) -> str:
        if self.label:
            return self.label
        if self.api_key is not None:
            return f"API key {self.api_key.name}"
        if self.user is not None and getattr(self.user, "is_authenticated", False):
            return str(self.user)
        return self.door


_SYSTEM = Actor(door=Door.SYSTEM)
_actor: ContextVar[Actor | None] = ContextVar("shopadmin_actor", default=None)


def current_actor() -> Actor:
    return _actor.get() or _SYSTEM


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor):
    return _actor.set(actor)


def reset_actor(token) -> None:
    _actor.reset(token)


def _jsonable(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "amount") and hasattr(value, "currency"):  # Money
        return f"{value.amount} {value.currency}"
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values to diff later; foreign keys by id."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _jsonable(getattr(instance, attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [before.get(name), after.get(name)] for name in after if before.get(name) != after.get(name)}


def audit_record(
    *,
    action: str,
    instance: models.Model | None = None,
    shop_id: int | None = None,
    changes: dict | None = None,
    model_label: str = "",
    object_id: str = "",
    object_repr: str | Words = "",
) -> AuditLogEntry:
    """Record a change. An `object_repr` given as `Words` is shown in the reader's language and
    kept in English in `object_repr` (the export, the search)."""
    actor = current_actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    if instance is not None:
        model_label = model_label or instance._meta.label
        object_id = object_id or str(instance.pk)
        # A model that says what it is in words (`audit_words()`) is described in the reader's language.
        described = getattr(instance, "audit_words", None)
        object_repr = object_repr or (described() if described else str(instance)[:200])
        if shop_id is None:
            shop_id = getattr(instance, "shop_id", None)
            if shop_id is None and instance._meta.label == "shopadmin.Shop":
                shop_id = instance.pk
    object_words = {}
    if isinstance(object_repr, Words):
        object_words = object_repr.as_data()
        with translation.override("en"):
            object_repr = str(object_repr)
    entry = AuditLogEntry(
        shop_id=shop_id,
        door=actor.door,
        actor_user=user,
        actor_api_key=actor.api_key,
        actor_label=actor.description[:200],
        action=action,
        model=model_label,
        object_id=object_id,
        object_repr=object_repr[:200],
        object_words=object_words,
        changes=_jsonable(changes or {}),
    )
    entry.save()
    return entry
