"""Every channels model is named in good English: the staff admin's lists say "Publish batches",
never "Publish batchs" or "Listing settingss"."""

import re

import pytest
from django.apps import apps
from django.contrib import admin

EXPECTED = {
    "channels.ChannelAccount": ("channel account", "channel accounts"),
    "channels.ChannelConnection": ("channel connection", "channel connections"),
    "channels.FeedFetch": ("feed fetch", "feed fetches"),
    "channels.ChannelReference": ("channel reference", "channel references"),
    "channels.WebhookEvent": ("webhook event", "webhook events"),
    "channels.ListingSettings": ("listing settings", "listing settings"),
    "channels.ListingRule": ("listing rule", "listing rules"),
    "channels.ChannelListing": ("channel listing", "channel listings"),
    "channels.PublishPlan": ("publish plan", "publish plans"),
    "channels.PublishBatch": ("publish batch", "publish batches"),
    "channels.PublishPlanItem": ("publish plan item", "publish plan items"),
    "channels_sandbox.SandboxAccount": ("sandbox account", "sandbox accounts"),
    "channels_sandbox.SandboxItem": ("sandbox item", "sandbox items"),
    "channels_sandbox.SandboxBatch": ("sandbox batch", "sandbox batches"),
    "channels_sandbox.SandboxOrder": ("sandbox order", "sandbox orders"),
    "channels_sandbox.SandboxGrant": ("sandbox grant", "sandbox grants"),
}


def _channels_models():
    return [model for label in ("channels", "channels_sandbox") for model in apps.get_app_config(label).get_models()]


def test_every_channels_model_has_its_expected_names():
    found = {
        model._meta.label: (str(model._meta.verbose_name), str(model._meta.verbose_name_plural))
        for model in _channels_models()
    }
    assert found == EXPECTED  # a new model: add its names here (and set them on the model)


def test_no_plural_is_made_by_gluing_an_s():
    for model in _channels_models():
        plural = str(model._meta.verbose_name_plural)
        assert not re.search(r"(ss|chs|shs|xs)\b", plural), f"{model._meta.label}: {plural}"


@pytest.mark.django_db
def test_admin_changelist_titles(client, staff):
    client.force_login(staff)
    registered = [model for model in _channels_models() if model in admin.site._registry]
    assert registered
    for model in registered:
        opts = model._meta
        response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, opts.label
        title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)
        assert re.match(rf"Select {opts.verbose_name} to (change|view) ", title), (opts.label, title)
    index = client.get("/admin/").content.decode()
    for model in registered:
        assert EXPECTED[model._meta.label][1].capitalize() in index, model._meta.label
    assert not re.search(r"settingss|batchs|fetchs", index, re.I)
