"""What every public storefront page shares: finding the shop from the URL (published and
active, or 404), the rate limit per client address, the buyer's language and market, and the
query parameters a page keeps in its links (cart, market, language, landing parameters).

Public pages never read the merchant's session or request.user: the shop is the URL's, set as
the tenant context explicitly, and the buyer is anonymous."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from localization.models import Market
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door, Shop
from shopadmin.tenancy import shop_context
from storefront import contracts
from storefront.models import StorefrontSettings

LANGUAGES = [code for code, _name in settings.LANGUAGES]
RTL = {"ur", "ar", "he", "fa"}
_clock = time.time  # the rate limit's clock (tests hold it still)


def rate_limited(request) -> bool:
    """A fixed one-minute window per client address in the cache (shared by the web workers
    when CACHE_URL names Redis)."""
    limit = getattr(settings, "STOREFRONT_RATE_LIMIT_PER_MINUTE", 120)
    if not limit:
        return False
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"storefront:rate:{address}:{int(_clock() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > limit


def _language_from(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if value in LANGUAGES:
        return value
    base = value.split("-")[0]
    return base if base in LANGUAGES else None


def buyer_language(request, market: Market | None, shop: Shop) -> tuple[str, bool]:
    """(language, chosen explicitly): ?lang=, else the browser's Accept-Language, else the
    market's first language, else the shop's."""
    explicit = _language_from(request.GET.get("lang"))
    if explicit:
        return explicit, True
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:500]
    for code, _q in parse_accept_lang_header(header) if header else ():
        if found := _language_from(code):
            return found, False
    for candidate in [*(market.languages if market else []), shop.default_language]:
        if found := _language_from(candidate):
            return found, False
    return settings.LANGUAGE_CODE, False


@dataclass
class Storefront:
    """The request's shop, settings, market and language, and the parameters its links keep."""

    shop: Shop
    settings: StorefrontSettings
    market: Market
    markets: list[Market]
    language: str
    keep: dict[str, str] = field(default_factory=dict)  # lang, market and landing parameters
    notices: list[str] = field(default_factory=list)  # what was wrong with the query, for the buyer

    @property
    def rtl(self) -> bool:
        return self.language in RTL

    @property
    def landing(self) -> dict[str, str]:
        return {k: v for k, v in self.keep.items() if k in contracts.LANDING_KEYS}

    def query(self, **extra) -> str:
        """The kept parameters and `extra` (None drops one) as a query string, with its "?"."""
        params = {**self.keep, **extra}
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return f"?{urlencode(params)}" if params else ""


def _plain(request, template: str, status: int, context: dict | None = None):
    response = render(request, template, context or {}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def storefront_page(view):
    """Find the published shop of the URL, set its context, the buyer's language and market."""

    @functools.wraps(view)
    def wrapper(request, store: str, *args, **kwargs):
        if rate_limited(request):
            response = _plain(request, "storefront/429.html", 429)
            response["Retry-After"] = "60"
            return response
        shop = Shop.objects.filter(slug=store[:50], is_active=True).first()
        if shop is None:
            return _plain(request, "storefront/404.html", 404)
        with shop_context(shop), acting_as(Actor(door=Door.SYSTEM, label="storefront")):
            sf_settings = StorefrontSettings.objects.filter(shop_id=shop.pk).first() or StorefrontSettings(
                shop_id=shop.pk
            )
            if not sf_settings.published:
                return _plain(request, "storefront/404.html", 404)
            markets = list(Market.objects.filter(is_active=True).order_by("-is_home", "name", "id"))
            if not markets:
                return _plain(request, "storefront/404.html", 404)
            keep: dict[str, str] = {}
            market = markets[0]
            wanted = (request.GET.get("market") or "").strip()
            market_refused = False
            if wanted:
                chosen = next((m for m in markets if str(m.pk) == wanted), None)
                if chosen is None:
                    market_refused = True
                else:
                    market = chosen
                    keep["market"] = str(market.pk)
            language, explicit = buyer_language(request, market, shop)
            if explicit:
                keep["lang"] = language
            keep.update(contracts.landing_params(request.GET))
            storefront = Storefront(
                shop=shop, settings=sf_settings, market=market, markets=markets, language=language, keep=keep
            )
            with translation.override(language):
                if market_refused:
                    storefront.notices.append(
                        _("That market is not available here; prices are shown for %(market)s.")
                        % {"market": market.name}
                    )
                if request.GET.get("lang") and not explicit:
                    storefront.notices.append(_("That language is not offered; choose one below."))
                response = view(request, storefront, *args, **kwargs)
                response.setdefault("Content-Language", language)
                return response

    return wrapper


def _carried(request, drop: tuple[str, ...]) -> list[tuple[str, str]]:
    """The query's parameters a form or link carries on (cart, coupon, landing…), capped."""
    pairs = []
    for key in list(request.GET.keys())[:30]:
        if key in drop or len(key) > 40:
            continue
        for value in request.GET.getlist(key)[:3]:
            pairs.append((key, value[:4000]))
    return pairs


def render_page(request, storefront: Storefront, template: str, context: dict, status: int = 200):
    from urllib.parse import urlencode as encode

    lang_links = []
    carried = _carried(request, ("lang", "page"))
    for code, name in settings.LANGUAGES:
        lang_links.append((code, name, f"{request.path}?{encode([*carried, ('lang', code)])}"))
    base = {
        "sf": storefront,
        "shop": storefront.shop,
        "market": storefront.market,
        "LANGUAGE_CODE": storefront.language,
        "rtl": storefront.rtl,
        "lang_links": lang_links,
        "market_hidden": _carried(request, ("market", "page", "shipping")),
        "home_url": reverse("storefront:home", args=[storefront.shop.slug]) + storefront.query(),
    }
    return render(request, template, {**base, **context}, status=status)
