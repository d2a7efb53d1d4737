"""Where a channel's buyers land: the shop's hosted product pages (`/s/<shop>/p/<handle>/`),
each listing's `link`, and Meta's checkout URL (`/s/<shop>/checkout/`).

The storefront app serves these addresses; the strings are built here, from SITE_URL and the
shop's slug, so that listings, feeds, publish plans and the storefront's canonical URLs say
the same thing. Reads only, no query beyond the account's shop and listing settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from channels.adapters import adapter_class
from channels.models import ChannelAccount


def shop_home_url(shop) -> str:
    """The shop's hosted home page."""
    return f"{settings.SITE_URL}/s/{shop.slug}/"


def hosted_product_url(shop, handle: str, variant_id: int | None = None) -> str:
    """The shop's hosted page of a product (`handle`: the product's URL name, a slug), on
    one of its variants when `variant_id` is given. No tracking parameters: this is also the
    page's canonical URL."""
    url = f"{settings.SITE_URL}/s/{shop.slug}/p/{handle}/"
    if variant_id is not None:
        url += f"?variant={int(variant_id)}"
    return url


def meta_checkout_url(account: ChannelAccount) -> str | None:
    """The checkout URL the merchant pastes into Meta's Commerce Manager, for an account of a
    channel that can send its buyers to the shop's checkout (Meta); None for other channels."""
    if ChannelAccount.CheckoutMethod.CHECKOUT_URL not in adapter_class(account.channel).checkout_methods:
        return None
    return f"{settings.SITE_URL}/s/{account.shop.slug}/checkout/"


def utm_parameters(account: ChannelAccount) -> str:
    """The channel's tracking parameters on every listing link, URL-encoded."""
    return urlencode({"utm_source": account.channel, "utm_medium": "social", "utm_campaign": account.name})


@dataclass(frozen=True)
class LinkFormat:
    """A listing's link as three fixed parts around the product handle and the variant id:
    `{before}{handle}{between}{variant id}{after}`. Items are built in Python and feeds in SQL
    from the same parts, so both write the same bytes."""

    before: str
    between: str
    after: str
    hosted: bool  # the shop's hosted pages (no storefront URL of the merchant's own)

    def link(self, handle: str, variant_id: int) -> str:
        return f"{self.before}{handle}{self.between}{variant_id}{self.after}"


def listing_link_format(account: ChannelAccount, storefront_url: str | None = None) -> LinkFormat:
    """How the account's listings link to their product page: the merchant's storefront
    (`<storefront>/products/<handle>?variant=<id>&utm_…`) when the account's listing settings
    name one, else the shop's hosted page (`<SITE_URL>/s/<shop>/p/<handle>/?variant=<id>&utm_…`).
    `storefront_url`: the settings' value when the caller has read them already."""
    if storefront_url is None:
        from channels.listings import listing_settings_for

        storefront_url = listing_settings_for(account).storefront_url
    after = "&" + utm_parameters(account)
    if storefront_url:
        return LinkFormat(f"{storefront_url}/products/", "?variant=", after, hosted=False)
    return LinkFormat(f"{settings.SITE_URL}/s/{account.shop.slug}/p/", "/?variant=", after, hosted=True)


def listing_home_url(account: ChannelAccount, storefront_url: str | None = None) -> str:
    """The site a feed is the catalog of (an RSS feed's channel `<link>`)."""
    if storefront_url is None:
        from channels.listings import listing_settings_for

        storefront_url = listing_settings_for(account).storefront_url
    return storefront_url or shop_home_url(account.shop)
