"""/api/v1/channel-accounts/: the contract of DESIGN.md §11. Thin: services do the writes."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from channels import services
from channels.account_methods import (
    channel_account_credentials_renewed,
    channel_account_set_methods,
    checkout_method_error,
    publish_method_error,
)
from channels.models import Channel, ChannelAccount
from channels.selectors import account_feeds, account_markets, webhook_url
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination


class FeedSerializer(serializers.Serializer):
    market = serializers.CharField()
    language = serializers.CharField()
    format = serializers.CharField()
    url = serializers.URLField(help_text="The absolute URL the channel fetches (always set, never empty).")


class ChannelAccountSerializer(serializers.ModelSerializer):
    """Credentials go in; only a masked view (which keys are set, last characters) comes out."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        required=False,
        write_only=True,
        help_text="Meta: catalog_id, commerce_account_id, access_token, app_secret, verify_token; "
        "TikTok Shop: app_key, app_secret, access_token, shop_cipher; Pinterest: access_token, "
        "ad_account_id; Snapchat and Google Merchant: none. On PATCH, keys left out keep their value.",
    )
    credentials_masked = serializers.SerializerMethodField()
    markets = serializers.JSONField(
        required=False, help_text='Market codes ("FR") or objects {"market", "country", "language", "currency"}.'
    )
    webhook_url = serializers.SerializerMethodField()
    feeds = serializers.SerializerMethodField(
        help_text="The feed URLs the channel fetches, per market and format. Empty for an account that "
        "publishes through an API that a feed would contradict (Pinterest with `publish_method: api`)."
    )
    publish_method = serializers.ChoiceField(
        choices=ChannelAccount.PublishMethod.choices,
        required=False,
        help_text="How listings reach the channel: `api` (we call the channel) or `feed` (the channel fetches "
        "the feed URLs in `feeds`). One or the other: Pinterest refuses API upserts into a catalog that has a "
        "feed data source. Only channels with both an API and feeds (Meta, Pinterest) take either; Snapchat "
        "and Google Merchant are always `feed`, TikTok Shop always `api`. Default: `api` where the channel "
        "has an API, else `feed`.",
    )
    checkout_method = serializers.ChoiceField(
        choices=ChannelAccount.CheckoutMethod.choices,
        required=False,
        help_text="Where buyers pay (channels with an order API that offer the choice, i.e. Meta): "
        "`on_channel` (checkout on Facebook/Instagram, orders through the order API) or `checkout_url` "
        "(buyers are sent to the shop's checkout page). Other channels refuse a value.",
    )
    connection_status = serializers.ChoiceField(
        choices=ChannelAccount.ConnectionStatus.choices,
        read_only=True,
        help_text="`needs_reconnect` when the channel withdrew our authorisation; `connection_message` says why. "
        "Sending new `credentials` marks the account connected again.",
    )
    connection_message = serializers.CharField(
        read_only=True, help_text="Why the account needs reconnecting, as the channel said it; empty otherwise."
    )

    class Meta:
        model = ChannelAccount
        fields = [
            "id",
            "channel",
            "name",
            "credentials",
            "credentials_masked",
            "api_base_url",
            "markets",
            "is_active",
            "publish_method",
            "checkout_method",
            "connection_status",
            "connection_message",
            "webhook_url",
            "feeds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"api_base_url": {"required": False, "allow_blank": True}, "is_active": {"required": False}}

    def get_credentials_masked(self, account) -> dict[str, str]:
        return account.credentials.masked()

    def get_webhook_url(self, account) -> str | None:
        return webhook_url(account)

    @extend_schema_field(FeedSerializer(many=True))
    def get_feeds(self, account) -> list[dict]:
        feeds = account_feeds(account)
        request = self.context.get("request")
        if request is not None:
            # Without a configured SITE_URL the feed path is made absolute from the request's host.
            for feed in feeds:
                if feed["url"].startswith("/"):
                    feed["url"] = request.build_absolute_uri(feed["url"])
        return feeds

    def validate(self, attrs):
        """publish_method and checkout_method must be ones the account's channel offers."""
        attrs = super().validate(attrs)
        channel = self.instance.channel if self.instance is not None else attrs.get("channel")
        if channel not in Channel.values:
            return attrs
        errors = {}
        if "publish_method" in attrs and (message := publish_method_error(channel, attrs["publish_method"])):
            errors["publish_method"] = [message]
        if "checkout_method" in attrs and (message := checkout_method_error(channel, attrs["checkout_method"])):
            errors["checkout_method"] = [message]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, account):
        data = super().to_representation(account)
        # Show the markets in effect: none configured means the shop's home market.
        data["markets"] = account_markets(account)
        return data


EXAMPLE_CREATE = {
    "channel": "meta",
    "name": "Facebook & Instagram US",
    "credentials": {
        "catalog_id": "123456789012345",
        "commerce_account_id": "987654321098765",
        "access_token": "EAAB…",
        "app_secret": "…",
        "verify_token": "choose-any-string",
    },
    "markets": ["US"],
}
EXAMPLE_REPLY = {
    "id": 7,
    "channel": "meta",
    "name": "Facebook & Instagram US",
    "credentials_masked": {"catalog_id": "••••2345", "access_token": "••••9xYz"},
    "api_base_url": f"https://graph.facebook.com/{settings.META_GRAPH_API_VERSION}",
    "markets": [{"market": "US", "country": "US", "language": "en", "currency": "USD"}],
    "is_active": True,
    "publish_method": "api",
    "checkout_method": "on_channel",
    "connection_status": "connected",
    "connection_message": "",
    "webhook_url": "https://shopadmin.example.com/webhooks/meta/Xq3…/",
    "feeds": [
        {
            "market": "US",
            "language": "en",
            "format": "csv",
            "url": "https://shopadmin.example.com/feeds/T0k…/meta-us-en.csv",
        }
    ],
}


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="List channel accounts"),
    post=extend_schema(
        tags=["channels"],
        summary="Connect a channel account",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Meta", value=EXAMPLE_CREATE, request_only=True),
            OpenApiExample("Reply", value=EXAMPLE_REPLY, response_only=True, status_codes=["201"]),
        ],
    ),
)
class ChannelAccountListCreate(generics.ListCreateAPIView):
    scope = "channels"
    serializer_class = ChannelAccountSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return ChannelAccount.objects.select_related("shop")

    @idempotent
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = services.channel_account_create(
            shop=request.shop,
            channel=data["channel"],
            name=data["name"],
            credentials=data.get("credentials") or {},
            api_base_url=data.get("api_base_url", ""),
            markets=data.get("markets") or [],
        )
        account = channel_account_set_methods(
            account=account, publish_method=data.get("publish_method"), checkout_method=data.get("checkout_method")
        )
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="A channel account"),
    patch=extend_schema(tags=["channels"], summary="Change a channel account (credentials merge key by key)"),
    delete=extend_schema(tags=["channels"], summary="Disconnect a channel account"),
)
class ChannelAccountDetail(generics.RetrieveUpdateDestroyAPIView):
    scope = "channels"
    serializer_class = ChannelAccountSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return ChannelAccount.objects.select_related("shop")

    def patch(self, request, *args, **kwargs):
        account = self.get_object()
        serializer = self.get_serializer(account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "channel" in data and data["channel"] != account.channel:
            raise serializers.ValidationError(
                {"channel": "The channel of an account cannot change; connect a new account."}
            )
        account = services.channel_account_update(
            account=account,
            name=data.get("name"),
            credentials=data.get("credentials"),
            api_base_url=data.get("api_base_url"),
            markets=data.get("markets"),
            is_active=data.get("is_active"),
        )
        account = channel_account_set_methods(
            account=account, publish_method=data.get("publish_method"), checkout_method=data.get("checkout_method")
        )
        if data.get("credentials"):
            account = channel_account_credentials_renewed(account=account)
        return Response(self.get_serializer(account).data)

    def perform_destroy(self, instance):
        services.channel_account_delete(account=instance)


@extend_schema(
    tags=["channels"],
    summary="Rotate the feed token (old feed URLs stop working)",
    request=None,
    responses=ChannelAccountSerializer,
)
class ChannelAccountRotateFeedToken(APIView):
    scope = "channels"
    required_scopes = {"POST": "channels:write"}

    def post(self, request, pk: int):
        account = get_object_or_404(ChannelAccount.objects.select_related("shop"), pk=pk)
        account = services.channel_account_rotate_feed_token(account=account)
        return Response(ChannelAccountSerializer(account, context={"request": request}).data)
