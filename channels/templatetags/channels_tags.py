from django import template

from channels.wording import plain

register = template.Library()


@register.filter
def plain_error(text):
    """`AdapterError: Invalid token` → `Invalid token`; a retryable failure's class becomes its sentence."""
    return plain(str(text or ""))
