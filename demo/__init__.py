"""The demo shop: `manage.py seed_demo` and the flow of orders it keeps going.

Installed only with DEMO_ENABLED (`make run` and the tests); production never loads it. It
builds the demo through the same services a merchant and the channels use.
"""
