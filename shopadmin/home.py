"""Sections of the shop home that higher apps contribute (the dashboard lives in `orders`).

The tenancy core must not import the apps built on it (DESIGN.md §2), so they register a
section from their `AppConfig.ready()` and the shop home renders whatever is registered,
in registration order, above its own team/keys/activity content.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

# A section takes the request (shop and membership already resolved) and returns
# (template name, context), or None to show nothing for this request.
HomeSection = Callable[[HttpRequest], "tuple[str, dict] | None"]

_sections: list[HomeSection] = []


def register_home_section(section: HomeSection) -> HomeSection:
    """Add a section to the shop home; registering the same function twice keeps one."""
    if section not in _sections:
        _sections.append(section)
    return section


def render_home_sections(request: HttpRequest) -> list[SafeString]:
    rendered = []
    for section in _sections:
        made = section(request)
        if made is not None:
            template, context = made
            rendered.append(render_to_string(template, context, request=request))
    return rendered
