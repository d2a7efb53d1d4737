"""`{% load audit %}` then `{{ movement.actor_label|actor_words }}`: who did something, in words
(a background task by what it does), for any row that keeps an actor label."""

from django import template

from shopadmin.audit_words import action_words as _action_words
from shopadmin.audit_words import actor_words as _actor_words

register = template.Library()


@register.filter
def actor_words(label, door=""):
    return _actor_words(label or "", door or "")


@register.filter
def action_words(action):
    return _action_words(action or "")
