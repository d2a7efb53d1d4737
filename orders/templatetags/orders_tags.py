"""Orders' own template filters: a reconciliation finding's two sides in the reader's language,
stored errors without exception class names."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from orders.models import Lifecycle
from shopadmin.templatetags.formats import money

register = template.Library()


@register.filter
def issue_side(issue, side: str):
    """`ours` or `theirs` of an issue: a status label and an amount through the money filter when
    the finding kept them (issue.data), else the stored text."""
    values = (issue.data or {}).get(side) or {}
    if not values:
        text = getattr(issue, f"{side}_text", "")
        return dict(Lifecycle.choices).get(text, text)  # a status recorded as its code reads as its label
    parts = []
    if values.get("lifecycle"):
        parts.append(str(dict(Lifecycle.choices).get(values["lifecycle"], values["lifecycle"])))
    if values.get("status") and not values.get("lifecycle"):
        parts.append(values["status"])
    if values.get("amount") not in (None, ""):
        parts.append(format_html('<span class="amount">{}</span>', money(values["amount"], values.get("currency"))))
    if side == "ours" and not parts:
        return _("not here")
    return _join(parts) if parts else getattr(issue, f"{side}_text", "")


def _join(parts):
    html = format_html("{}", parts[0])
    for part in parts[1:]:
        html = format_html("{} · {}", html, part)
    return html


@register.filter
def source_label(source: str) -> str:
    """Where an order came from, by name (orders.earnings.SOURCE_LABELS): `instagram` → Instagram."""
    from orders.earnings import source_label as label

    return label(source) if source else "—"
