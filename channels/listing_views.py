"""Merchant pages for listings, feed checks and plan-then-publish. Thin: services do the writes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.models import Category, Product
from channels.errors import ChannelsErrorCode
from channels.feeds import account_feed_specs, feed_check
from channels.health import account_usable, reconnect_message
from channels.listings import (
    listing_rule_add,
    listing_rule_remove,
    listing_settings_for,
    listing_settings_update,
    listing_update,
    listings_sync,
)
from channels.models import ChannelAccount, ChannelListing, ListingRule, ListingSettings, ListingStatus, PublishPlan
from channels.publishing import plan_outcome, publish_plan_apply, publish_plan_create
from shopadmin.decorators import shop_view
from shopadmin.forms import add_service_errors
from shopadmin.roles import Perm


class SettingsForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("List"), choices=ListingSettings.Scope.choices)
    storefront_url = forms.URLField(
        label=gettext_lazy("Storefront URL"),
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy(
            "Your own website, if you have one: listings link to its /products/ pages. "
            "Leave it empty to link every listing to the shop's own product pages on Shopadmin."
        ),
    )
    auto_apply = forms.BooleanField(label=gettext_lazy("Publish stock and price changes automatically"), required=False)


class RuleForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Rule"), choices=ListingRule.Action.choices)
    target = forms.CharField(
        label=gettext_lazy("Product handle or category path"), max_length=500, help_text=gettext_lazy(
            "e.g. linen-shirt-12 or Apparel > Tops")
    )  # fmt: skip


class OverrideForm(forms.Form):
    title_override = forms.CharField(label=gettext_lazy("Title"), max_length=255, required=False)
    description_override = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea, required=False)
    category_override = forms.CharField(label=gettext_lazy("Google product category"), max_length=255, required=False)
    custom_labels = forms.CharField(
        label=gettext_lazy("Custom labels"), required=False, help_text=gettext_lazy("Up to 5, separated by commas.")
    )


def _feed_list(account):
    from django.conf import settings

    return [
        {"name": spec.name, "kind": spec.kind, "url": f"{settings.SITE_URL}/feeds/{account.feed_token}/{spec.name}"}
        for spec in account_feed_specs(account)
    ]


@shop_view(Perm.VIEW)
def listing_list(request, account_id: int):
    account = get_object_or_404(ChannelAccount, pk=account_id)
    can_write = request.membership.has_perm(Perm.CHANNELS_WRITE)
    settings_ = listing_settings_for(account)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        return _listing_list_post(request, account)
    listings = ChannelListing.objects.filter(account=account).select_related("variant")
    wanted = request.GET.get("status", "")
    if wanted in ListingStatus.values:
        listings = listings.filter(status=wanted)
    page = Paginator(listings, 100).get_page(request.GET.get("page"))
    context = {
        "account": account,
        "settings_form": SettingsForm(
            initial={
                "scope": settings_.scope,
                "storefront_url": settings_.storefront_url,
                "auto_apply": settings_.auto_apply,
            }
        ),
        "rule_form": RuleForm(),
        "rules": ListingRule.objects.filter(account=account).select_related("product", "category"),
        "page": page,
        "statuses": ListingStatus.choices,
        "wanted": wanted,
        "can_write": can_write,
        "feeds": _feed_list(account),
        "check": feed_check(account, limit=100) if request.GET.get("check") else None,
        "plans": PublishPlan.objects.filter(account=account).select_related("job")[:10],
    }
    return render(request, "channels/listing_list.html", context)


def _listing_list_post(request, account):
    what = request.POST.get("form")
    try:
        if what == "settings":
            form = SettingsForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            listing_settings_update(account=account, **form.cleaned_data)
            messages.success(request, _("Saved."))
        elif what == "rule":
            form = RuleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            target = form.cleaned_data["target"].strip()
            product = Product.objects.filter(handle=target).first()
            category = None if product else Category.objects.filter(full_path=target).first()
            if product is None and category is None:
                raise ValidationError(
                    _("No product with the handle or category with the path “%s”.") % target,
                    code=ChannelsErrorCode.RULE_TARGET_NOT_FOUND,
                )
            listing_rule_add(account=account, action=form.cleaned_data["action"], product=product, category=category)
            messages.success(request, _("Rule added."))
        elif what == "remove-rule":
            rule = get_object_or_404(ListingRule, pk=request.POST.get("rule"), account=account)
            listing_rule_remove(rule=rule)
            messages.success(request, _("Rule removed."))
        elif what == "sync":
            made = listings_sync(account=account)
            messages.success(request, _("%(n)s new listings.") % {"n": made["created"]})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("channels:listing-list", request.shop.slug, account.pk)


@shop_view(Perm.VIEW)
def listing_detail(request, listing_id: int):
    listing = get_object_or_404(ChannelListing.objects.select_related("account", "variant"), pk=listing_id)
    can_write = request.membership.has_perm(Perm.CHANNELS_WRITE)
    form = OverrideForm(
        request.POST or None,
        initial={
            "title_override": listing.title_override,
            "description_override": listing.description_override,
            "category_override": listing.category_override,
            "custom_labels": ", ".join(listing.custom_labels),
        },
    )
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied(_("Your role in this shop does not allow this."))
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["custom_labels"] = [x.strip() for x in data["custom_labels"].split(",") if x.strip()]
            try:
                listing_update(listing=listing, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved. Review changes to publish them."))
                return redirect("channels:listing-detail", request.shop.slug, listing.pk)
    return render(
        request,
        "channels/listing_detail.html",
        {"listing": listing, "form": form if can_write else None},
        status=400 if form.errors else 200,
    )


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def plan_create(request, account_id: int):
    account = get_object_or_404(ChannelAccount, pk=account_id)
    plan = publish_plan_create(account=account, created_by=request.user)
    return redirect("channels:plan-detail", request.shop.slug, plan.pk)


@shop_view(Perm.VIEW)
def plan_detail(request, plan_id: int):
    """Review changes: what applying this plan will create, update (field by field) and delete."""
    plan = get_object_or_404(PublishPlan.objects.select_related("account", "job"), pk=plan_id)
    items = plan.items.select_related("listing").order_by("action", "id")
    action = request.GET.get("action", "")
    if action in ("create", "update", "delete"):
        items = items.filter(action=action)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    usable = account_usable(plan.account)
    return render(
        request,
        "channels/plan_detail.html",
        {
            "plan": plan,
            "page": page,
            "action": action,
            "can_write": request.membership.has_perm(Perm.CHANNELS_WRITE),
            "job": plan.job,
            # The job's own words say "Succeeded" over rejections: once it finished, the
            # plan's outcome is told here instead.
            "outcome": plan_outcome(plan),
            "usable": usable,
            "reconnect_message": "" if usable else reconnect_message(plan.account),
        },
    )


@require_POST
@shop_view(Perm.CHANNELS_WRITE)
def plan_apply(request, plan_id: int):
    plan = get_object_or_404(PublishPlan, pk=plan_id)
    try:
        publish_plan_apply(plan=plan, created_by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Publishing started."))
    return redirect("channels:plan-detail", request.shop.slug, plan.pk)
