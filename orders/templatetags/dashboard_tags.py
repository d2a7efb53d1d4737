from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def change(percent):
    """+12% / −3% beside a figure, against the previous period; a dash when there is none to compare."""
    if percent is None:
        return format_html('<span class="delta" title="{}">—</span>', _("nothing to compare with"))
    rounded = round(percent)
    if rounded == 0:
        return format_html('<span class="delta">±0%</span>')
    sign, css = ("+", "up") if rounded > 0 else ("−", "down")
    return format_html('<span class="delta {}">{}{}%</span>', css, sign, abs(rounded))


@register.filter
def percent_of(part, whole):
    return round(part * 100 / whole) if whole else 0
