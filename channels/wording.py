"""Errors in words: what a merchant reads when a channel call or a run fails.

Messages are stored without the exception's class name (`AdapterError: …`); the class says how
the call failed, and that becomes a sentence in the reader's language. Text stored by earlier
versions (or by other apps, such as a publish batch's error) is cleaned where it is shown.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# "AdapterError: …", "channels.adapters.base.TransientError: …", "RateLimited: …" at the start.
_CLASS_PREFIX = re.compile(r"^\s*(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Limited|Refused|Timeout))\s*:\s*")


def _kind_sentence(name: str) -> str:
    if name == "TransientError":
        return _("The channel did not answer in time; it is tried again.")
    if name == "RateLimited":
        return _("The channel asked us to slow down; it is tried again.")
    return ""


def error_words(exc: BaseException) -> str:
    """A failure as a merchant reads it: the channel's own message, with a sentence for the
    kinds of failure that fix themselves; never the exception's class name."""
    message = plain(str(exc))
    sentence = _kind_sentence(type(exc).__name__)
    if sentence:
        return f"{sentence} {message}".strip() if message else sentence
    return message or _("Something went wrong; try again.")


def plain(text: str) -> str:
    """Stored text without a leading exception class name (`AdapterError: Invalid token` →
    `Invalid token`); a retryable failure's class becomes its sentence."""
    text = text or ""
    match = _CLASS_PREFIX.match(text)
    if match is None:
        return text
    rest = text[match.end() :].strip()
    sentence = _kind_sentence(match.group(1))
    if sentence:
        return f"{sentence} {rest}".strip()
    return rest
