"""How an account publishes (API or feed) and where its buyers pay: which choices a channel
offers, read from its adapter's capabilities, and the write that sets them.

A channel with both a publishing API and feeds takes one of them per account: Pinterest
refuses API upserts into a catalog that has a feed data source, so an account publishes
through the API or is fed by our feed URL, never both. Feed-only channels (Snapchat, Google
Merchant Center) are always fed; a channel without feeds (TikTok Shop) always publishes by API.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.adapters import adapter_class
from channels.errors import ChannelsErrorCode
from channels.models import Channel, ChannelAccount

PublishMethod = ChannelAccount.PublishMethod
CheckoutMethod = ChannelAccount.CheckoutMethod

PUBLISH_METHOD_HELP = gettext_lazy(
    "A catalog takes our listings either through the channel's API or from our feed, not both: "
    "Pinterest, for one, refuses API updates to a catalog that has a feed data source. "
    "Through the API, changes reach the channel within minutes; with the feed, the channel "
    "fetches the feed URLs on its own schedule. Choose the feed if the channel's catalog is "
    "already fed by a data source."
)
CHECKOUT_METHOD_HELP = gettext_lazy(
    "Where buyers pay: on the channel (Facebook and Instagram checkout; orders come in through "
    "the channel's order API), or on your shop's checkout page, where the channel sends them."
)


def publish_methods(channel: str) -> tuple[str, ...]:
    """The publish methods a channel allows, the default first."""
    adapter = adapter_class(channel)
    if adapter.feed_only:
        return (PublishMethod.FEED,)
    if not adapter.feed_formats:
        return (PublishMethod.API,)
    return (PublishMethod.API, PublishMethod.FEED)


def checkout_methods(channel: str) -> tuple[str, ...]:
    """The checkout methods a channel lets the merchant choose between; () when the choice
    does not apply (no order API, or only one way to pay)."""
    adapter = adapter_class(channel)
    if not adapter.has_order_api:
        return ()
    methods = adapter.checkout_methods
    return methods if len(methods) > 1 else ()


def offers_publish_method(channel: str) -> bool:
    return len(publish_methods(channel)) > 1


def offers_checkout_method(channel: str) -> bool:
    return bool(checkout_methods(channel))


def publish_method_error(channel: str, value: str) -> str:
    """Why `value` is not a publish method of `channel`, or ""."""
    allowed = publish_methods(channel)
    if value in allowed:
        return ""
    label = Channel(channel).label
    if allowed == (PublishMethod.FEED,):
        return _("%(channel)s fetches our feed; it has no publishing API, so its publish method is feed.") % {
            "channel": label
        }
    if allowed == (PublishMethod.API,):
        return _(
            "%(channel)s takes listings through its API only; it fetches no feed, so its publish method is api."
        ) % {"channel": label}
    return _("Choose one of: %s.") % ", ".join(allowed)


def checkout_method_error(channel: str, value: str) -> str:
    """Why `value` is not a checkout method the merchant may choose for `channel`, or ""."""
    allowed = checkout_methods(channel)
    if value in allowed:
        return ""
    if not allowed:
        return _("%(channel)s offers no choice of checkout.") % {"channel": Channel(channel).label}
    return _("Choose one of: %s.") % ", ".join(allowed)


@transaction.atomic
def channel_account_set_methods(
    *, account: ChannelAccount, publish_method: str | None = None, checkout_method: str | None = None
) -> ChannelAccount:
    """Set how the account publishes and where its buyers pay; None keeps a value. An account
    of a channel with one publish method gets that one (a new Snapchat account: feed)."""
    from shopadmin.audit import audit_record

    errors: dict[str, list[ValidationError]] = {}
    if publish_method is not None and (message := publish_method_error(account.channel, publish_method)):
        errors["publish_method"] = [ValidationError(message, code=ChannelsErrorCode.PUBLISH_METHOD_UNAVAILABLE)]
    if checkout_method is not None and (message := checkout_method_error(account.channel, checkout_method)):
        errors["checkout_method"] = [ValidationError(message, code=ChannelsErrorCode.CHECKOUT_METHOD_UNAVAILABLE)]
    if errors:
        raise ValidationError(errors)
    allowed = publish_methods(account.channel)
    wanted_publish = publish_method or (account.publish_method if account.publish_method in allowed else allowed[0])
    changes = {}
    if wanted_publish != account.publish_method:
        changes["publish_method"] = [account.publish_method, wanted_publish]
        account.publish_method = wanted_publish
    if checkout_method is not None and checkout_method != account.checkout_method:
        changes["checkout_method"] = [account.checkout_method, checkout_method]
        account.checkout_method = checkout_method
    if changes:
        account.save(update_fields=[*changes, "updated_at"])
        audit_record(action="channel_account.update", instance=account, changes=changes)
    return account
