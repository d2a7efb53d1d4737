"""Messages written by one person (or a background task) and read by another, in the reader's
language.

A task writes an order's timeline in the language it runs in; a French merchant reads it
later. `Words` keeps the English text and its values, so the page translates them when it
shows them: `Words(gettext_noop("%(n)d x %(sku)s allocated"), n=2, sku="TEE-M")`. Values that
are themselves `Words` are translated too; numbers stay numbers, every other value is kept as text.
"""

from __future__ import annotations

from django.utils.translation import gettext


class Words:
    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return render(self.as_data())

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
