"""Hooks the merchant experience into the rest of the project, from OrdersConfig.ready()."""


def connect() -> None:
    from orders import demo_story  # also registers its beat task with Celery
    from orders.dashboard_views import dashboard_section
    from shopadmin.home import register_home_section
    from shopadmin.signals import demo_seed

    register_home_section(dashboard_section)
    # After orders.demo's receiver (connected first): the story builds on its account and orders.
    demo_seed.connect(demo_story.seed_demo_story, dispatch_uid="orders.demo_story")
