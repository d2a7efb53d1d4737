from django import template

from shopadmin.templatetags.formats import money as shared_money

register = template.Library()

# One money format for the whole UI: catalog templates load it from here, others from `formats`.
register.filter("money", shared_money)


@register.filter
def signed(value):
    return f"{value:+d}" if isinstance(value, int) else value
