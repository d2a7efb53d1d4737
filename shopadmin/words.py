"""Messages written by one person (or a background task) and read by another, in the reader's
language.

A task writes an order's timeline in the language it runs in; a French merchant reads it
later. `Words` keeps the English text and its values, so the page translates them when it
shows them: `Words(gettext_noop("%(n)d x %(sku)s allocated"), n=2, sku="TEE-M")`. Values that
are themselves `Words` are translated too; numbers stay numbers, every other value is kept as text.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext


class Words:
    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    @classmethod
    def of(cls, text) -> Words | str:
        """A `gettext_lazy` text (a choice's label) as words, so it is translated when read;
        any other text is kept as it is."""
        args = getattr(text, "_args", None) if isinstance(text, Promise) else None
        if args and len(args) == 1 and isinstance(args[0], str):
            return cls(args[0])
        return str(text)

    @classmethod
    def from_data(cls, data: dict) -> Words:
        """Words back from what `as_data` stored."""
        params = {k: cls.from_data(v) if isinstance(v, dict) else v for k, v in (data.get("params") or {}).items()}
        return cls(str(data.get("msgid", "")), **params)

    def __str__(self) -> str:
        return render(self.as_data())

    def __eq__(self, other) -> bool:
        return isinstance(other, Words) and self.as_data() == other.as_data()

    __hash__ = None  # mutable params: compared, not hashed

    def as_data(self) -> dict:
        """What is stored: the English text and its values (nested Words as dicts)."""
        return {
            "msgid": self.msgid,
            "params": {k: _stored(v) for k, v in self.params.items()},
        }


def _stored(value):
    if isinstance(value, Words):
        return value.as_data()
    if isinstance(value, bool | int | float):  # numbers stay numbers for %(n)d
        return value
    return str(value)


def render(data) -> str:
    """Stored words in the active language; a malformed record reads as its English text."""
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        return ""
    params = {k: render(v) if isinstance(v, dict) else v for k, v in (data.get("params") or {}).items()}
    text = gettext(data["msgid"])
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        return data["msgid"]
