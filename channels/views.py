"""The merchant's Channels pages. Thin: forms in, services do the writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels import services
from channels.account_methods import (
    channel_account_credentials_renewed,
    channel_account_set_methods,
    offers_checkout_method,
    offers_publish_method,
)
from channels.credentials import CREDENTIALS
from channels.forms import ChannelAccountForm
from channels.models import Channel, ChannelAccount, WebhookEvent
from channels.selectors import account_feeds, account_markets, webhook_url
from shopadmin.decorators import shop_view
from shopadmin.roles import Perm


@shop_view(Perm.VIEW)
def account_list(request):
    accounts = list(ChannelAccount.objects.all())
    for account in accounts:
        account.feed_list = account_feeds(account, request.shop)
        account.market_list = account_markets(account, request.shop)
    events = WebhookEvent.objects.select_related("account")[:20]
    return render(
        request,
        "channels/account_list.html",
        {"accounts": accounts, "channels": Channel.choices, "events": events},
    )


@shop_view(Perm.CHANNELS_WRITE)
def account_connect(request, channel: str):
    if channel not in Channel.values:
        raise Http404("No such channel.")
    form = ChannelAccountForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                account = services.channel_account_create(
                    shop=request.shop,
                    channel=channel,
                    name=form.cleaned_data["name"],
                    credentials=form.credentials(),
                    api_base_url=form.cleaned_data["api_base_url"],
                    markets=form.market_codes(),
                )
                channel_account_set_methods(account=account, **form.methods())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("%(name)s is connected.") % {"name": account.name})
            return redirect("channels:account-detail", request.shop.slug, account.pk)
    return render(
        request,
        "channels/account_form.html",
        {"form": form, "channel_label": Channel(channel).label, "account": None},
        status=400 if form.errors else 200,
    )


@shop_view(Perm.VIEW)
def account_detail(request, account_id: int):
    account = get_object_or_404(ChannelAccount, pk=account_id)
    can_write = request.membership.has_perm(Perm.CHANNELS_WRITE)
    form = None
    if can_write:
        initial = {
            "name": account.name,
            "api_base_url": account.api_base_url,
            "markets": ", ".join(m["market"] for m in account.markets),
            "publish_method": account.publish_method,
            "checkout_method": account.checkout_method,
        }
        form = ChannelAccountForm(request.POST or None, channel=account.channel, editing=True, initial=initial)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            try:
                with transaction.atomic():
                    updated = services.channel_account_update(
                        account=account,
                        name=form.cleaned_data["name"],
                        credentials=form.credentials(),
                        api_base_url=form.cleaned_data["api_base_url"],
                        markets=form.market_codes(),
                    )
                    channel_account_set_methods(account=updated, **form.methods())
                    if form.credentials():
                        channel_account_credentials_renewed(account=updated)
            except ValidationError as exc:
                form.apply_errors(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("channels:account-detail", request.shop.slug, account.pk)
    context = {
        "account": account,
        "form": form,
        "masked": [
            (spec.label, account.credentials.masked().get(spec.key, "")) for spec in CREDENTIALS[account.channel]
        ],
        "webhook_url": webhook_url(account),
        "feeds": account_feeds(account, request.shop),
        "markets": account_markets(account, request.shop),
        "events": account.webhook_events.all()[:50],
        "offers_publish_method": offers_publish_method(account.channel),
        "offers_checkout_method": offers_checkout_method(account.channel),
    }
    return render(request, "channels/account_detail.html", context, status=400 if form and form.errors else 200)


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def account_rotate_feed_token(request, account_id: int):
    account = get_object_or_404(ChannelAccount, pk=account_id)
    services.channel_account_rotate_feed_token(account=account)
    messages.success(request, _("New feed URLs issued; the old ones no longer work. Update them in the channel."))
    return redirect("channels:account-detail", request.shop.slug, account.pk)


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def account_delete(request, account_id: int):
    account = get_object_or_404(ChannelAccount, pk=account_id)
    name = account.name
    try:
        services.channel_account_delete(account=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("channels:account-detail", request.shop.slug, account.pk)
    messages.success(request, _("%(name)s is disconnected.") % {"name": name})
    return redirect("channels:account-list", request.shop.slug)
