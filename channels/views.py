"""The merchant's Channels pages. Thin: forms in, services do the writes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels import connections, services
from channels.account_methods import channel_account_set_methods, offers_checkout_method, offers_publish_method
from channels.adapters.auth import auth_class
from channels.credentials import CREDENTIALS
from channels.forms import ChannelAccountForm
from channels.links import meta_checkout_url
from channels.models import (
    INTERNAL_CHANNELS,
    Channel,
    ChannelAccount,
    ChannelConnection,
    WebhookEvent,
    connectable_channel_choices,
)
from channels.selectors import account_feeds, account_health, account_markets, webhook_event_words, webhook_url
from shopadmin.decorators import shop_view
from shopadmin.roles import Perm


def _in_words(events) -> list:
    """Webhook events with `words`: what each notification was about."""
    events = list(events)
    for event in events:
        event.words = webhook_event_words(event)
    return events


def _merchant_accounts():
    """The accounts a merchant connected: the shop's own checkout account is Shopadmin's (it is
    listed, read-only, in the API's channel-accounts/ and its orders in the orders list)."""
    return ChannelAccount.objects.exclude(channel__in=INTERNAL_CHANNELS)


@shop_view(Perm.VIEW)
def account_list(request):
    accounts = list(_merchant_accounts())
    for account in accounts:
        account.feed_list = account_feeds(account, request.shop)
        account.market_list = account_markets(account, request.shop)
    events = _in_words(WebhookEvent.objects.select_related("account")[:20])
    return render(
        request,
        "channels/account_list.html",
        {"accounts": accounts, "channels": connectable_channel_choices(), "events": events},
    )


def _connect_forms(request, channel: str):
    """The connect page's forms: "Connect with <channel>" (the channel's consent page) and,
    where the channel allows it, pasted credentials; a feed-only channel asks for no secrets."""
    cls = auth_class(channel)
    how = request.POST.get("how") if request.method == "POST" else None
    if cls is None:
        return None, ChannelAccountForm(request.POST if how == "feed" else None, channel=channel, credential_keys=())
    authorize = ChannelAccountForm(request.POST if how == "authorize" else None, channel=channel, credential_keys=())
    paste = ChannelAccountForm(
        request.POST if how == "paste" else None, channel=channel, credential_keys=cls.pasted_keys
    )
    return authorize, paste


@shop_view(Perm.CHANNELS_WRITE)
def account_connect(request, channel: str):
    if channel not in Channel.values or channel in INTERNAL_CHANNELS:
        raise Http404("No such channel.")
    cls = auth_class(channel)
    authorize_form, other_form = _connect_forms(request, channel)
    how = request.POST.get("how") if request.method == "POST" else None
    if how == "authorize" and authorize_form is not None and authorize_form.is_valid():
        try:
            connection, url = connections.connection_start_authorize(
                shop=request.shop,
                user=request.user,
                channel=channel,
                name=authorize_form.cleaned_data["name"],
                markets=authorize_form.market_choices(),
                methods=authorize_form.methods(),
            )
        except ValidationError as exc:
            authorize_form.apply_errors(exc)
        else:
            return redirect(url)
    elif how == "paste" and cls is not None and other_form.is_valid():
        try:
            connection = connections.connection_start_pasted(
                shop=request.shop,
                user=request.user,
                channel=channel,
                credentials=other_form.credentials(),
                name=other_form.cleaned_data["name"],
                markets=other_form.market_choices(),
                methods=other_form.methods(),
                api_base_url=other_form.cleaned_data.get("api_base_url", ""),
            )
        except ValidationError as exc:
            other_form.apply_errors(exc)
        else:
            return redirect("channels:connection-detail", request.shop.slug, connection.pk)
    elif how == "feed" and cls is None and other_form.is_valid():
        try:
            with transaction.atomic():
                account = services.channel_account_create(
                    shop=request.shop,
                    channel=channel,
                    name=other_form.cleaned_data["name"],
                    markets=other_form.market_choices(),
                )
                channel_account_set_methods(account=account, **other_form.methods())
        except ValidationError as exc:
            other_form.apply_errors(exc)
        else:
            messages.success(request, _("%(name)s is connected.") % {"name": account.name})
            return redirect("channels:account-detail", request.shop.slug, account.pk)
    errors = (authorize_form is not None and authorize_form.errors) or other_form.errors
    return render(
        request,
        "channels/account_form.html",
        {
            "authorize_form": authorize_form,
            "other_form": other_form,
            "how": how,
            "channel": channel,
            "channel_label": Channel(channel).label,
            "app_configured": cls.configured() if cls else True,
            "uses_sandbox": cls.uses_sandbox() if cls else False,
        },
        status=400 if request.method == "POST" and errors else 200,
    )


@shop_view(Perm.VIEW)
def account_detail(request, account_id: int):
    account = get_object_or_404(_merchant_accounts(), pk=account_id)
    cls = auth_class(account.channel)
    can_write = request.membership.has_perm(Perm.CHANNELS_WRITE)
    form = None
    if can_write:
        initial = {
            "name": account.name,
            "api_base_url": account.api_base_url,
            "publish_method": account.publish_method,
            "checkout_method": account.checkout_method,
        }
        form = ChannelAccountForm(
            request.POST or None,
            channel=account.channel,
            editing=True,
            initial=initial,
            account=account,
            credential_keys=cls.pasted_keys if cls else (),
        )
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            connection = None
            try:
                with transaction.atomic():
                    updated = services.channel_account_update(
                        account=account,
                        name=form.cleaned_data["name"],
                        api_base_url=form.cleaned_data["api_base_url"],
                        markets=form.market_choices(),
                    )
                    channel_account_set_methods(account=updated, **form.methods())
                    if form.credentials():
                        # New credentials are checked by the channel before they replace the old.
                        connection = connections.connection_start_pasted(
                            shop=request.shop,
                            user=request.user,
                            channel=account.channel,
                            credentials=form.credentials(),
                            account=updated,
                        )
            except ValidationError as exc:
                form.apply_errors(exc)
            else:
                if connection is not None:
                    return redirect("channels:connection-detail", request.shop.slug, connection.pk)
                messages.success(request, _("Saved."))
                return redirect("channels:account-detail", request.shop.slug, account.pk)
    feeds = account_feeds(account, request.shop)
    fetches = {fetch.feed: fetch for fetch in account.feed_fetches.all()}
    for feed in feeds:
        feed["fetch"] = fetches.get(feed["url"].rsplit("/", 1)[-1])
    context = {
        "account": account,
        "form": form,
        "health": account_health(account),
        "can_reconnect": cls is not None and can_write,
        # An optional credential left empty is the deployment's own (its app key and secret).
        "masked": [
            (spec.label, account.credentials.masked().get(spec.key, ""))
            for spec in CREDENTIALS[account.channel]
            if spec.required or account.credentials.get(spec.key)
        ],
        "webhook_url": webhook_url(account),
        "checkout_url": _absolute(request, meta_checkout_url(account)),
        "feeds": feeds,
        "markets": account_markets(account, request.shop),
        "events": _in_words(account.webhook_events.select_related("account")[:50]),
        "offers_publish_method": offers_publish_method(account.channel),
        "offers_checkout_method": offers_checkout_method(account.channel),
    }
    return render(request, "channels/account_detail.html", context, status=400 if form and form.errors else 200)


def _absolute(request, url: str | None) -> str | None:
    """A URL of ours made absolute from the request's host when SITE_URL is not configured."""
    return request.build_absolute_uri(url) if url and url.startswith("/") else url


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def account_reconnect(request, account_id: int):
    """Authorise again on the channel's page; the account keeps its listings and orders."""
    account = get_object_or_404(_merchant_accounts(), pk=account_id)
    try:
        _connection, url = connections.connection_start_authorize(
            shop=request.shop, user=request.user, channel=account.channel, account=account
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("channels:account-detail", request.shop.slug, account.pk)
    return redirect(url)


@shop_view(Perm.CHANNELS_WRITE)
def connection_detail(request, connection_id: int):
    """Where a connection attempt stands: checking (the page reloads itself), a choice to make,
    or its outcome."""
    connection = get_object_or_404(ChannelConnection.objects.select_related("account"), pk=connection_id)
    if connection.status == ChannelConnection.Status.CONNECTED and connection.account_id:
        messages.success(request, _("%(name)s is connected.") % {"name": connection.account.name})
        return redirect("channels:account-detail", request.shop.slug, connection.account_id)
    error = ""
    if request.method == "POST":
        try:
            connection = connections.connection_choose(
                connection=connection, choice_id=request.POST.get("choice", ""), user=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if connection.status == ChannelConnection.Status.CONNECTED:
                messages.success(request, _("%(name)s is connected.") % {"name": connection.account.name})
                return redirect("channels:account-detail", request.shop.slug, connection.account_id)
            error = connection.message
    cls = auth_class(connection.channel)
    return render(
        request,
        "channels/connection_detail.html",
        {
            "connection": connection,
            "channel_label": Channel(connection.channel).label,
            "choice_noun": cls.choice_noun if cls else "",
            "error": error,
            "waiting": connection.status in (ChannelConnection.Status.STARTED, ChannelConnection.Status.CHECKING),
        },
        status=400 if error else 200,
    )


@login_required
def connect_callback(request, channel: str):
    """Where the channel sends the merchant back after the consent page (one URL per channel,
    registered with the deployment's app; `state` names the shop)."""
    if channel not in Channel.values or channel in INTERNAL_CHANNELS:
        raise Http404("No such channel.")
    try:
        connection = connections.connection_accept_callback(user=request.user, channel=channel, params=request.GET)
    except connections.ConnectRefused as exc:
        return render(
            request,
            "channels/connect_refused.html",
            {"message": str(exc), "channel_label": Channel(channel).label},
            status=400,
        )
    return redirect("channels:connection-detail", connection.shop.slug, connection.pk)


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def account_rotate_feed_token(request, account_id: int):
    account = get_object_or_404(_merchant_accounts(), pk=account_id)
    services.channel_account_rotate_feed_token(account=account)
    messages.success(request, _("New feed URLs issued; the old ones no longer work. Update them in the channel."))
    return redirect("channels:account-detail", request.shop.slug, account.pk)


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def account_delete(request, account_id: int):
    account = get_object_or_404(_merchant_accounts(), pk=account_id)
    name = account.name
    try:
        services.channel_account_delete(account=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("channels:account-detail", request.shop.slug, account.pk)
    messages.success(request, _("%(name)s is disconnected.") % {"name": name})
    return redirect("channels:account-list", request.shop.slug)
