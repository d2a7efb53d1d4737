from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo shop (seed_demo, its sandbox accounts and its beat task). Nothing in the other
    apps imports it or reacts to it: it only calls their services."""

    name = "demo"
    label = "demo"
    verbose_name = "Demo shop"
