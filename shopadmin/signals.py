"""Signals through which higher apps react to the tenancy core without being imported by it."""

from django.dispatch import Signal

# Sent inside shop_create's transaction and the new shop's context; localization creates
# the home market from it. Receivers get shop.
shop_created = Signal()

# Sent on commit of shop_update with the changes ({field: [old, new]}); orders rebuilds its
# daily sales by local day when the time zone changes. Receivers get shop and changes.
shop_updated = Signal()
