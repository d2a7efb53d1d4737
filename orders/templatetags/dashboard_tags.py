from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from shopadmin.templatetags.formats import percent as percent_filter

register = template.Library()


@register.filter
def change(percent):
    """+12% / -3% (with a true minus sign) against the previous period; a dash with nothing to compare."""
    if percent is None:
        return format_html('<span class="delta" title="{}">—</span>', _("nothing to compare with"))
    rounded = round(percent)
    if rounded == 0:
        return format_html('<span class="delta">{}</span>', "±0%")
    sign, css = ("+", "up") if rounded > 0 else ("\u2212", "down")
    return format_html('<span class="delta {}">{}{}</span>', css, sign, percent_filter(abs(rounded) / 100))


@register.filter
def percent_of(part, whole):
    return round(part * 100 / whole) if whole else 0
