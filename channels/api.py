"""/api/v1/channel-accounts/: the contract of DESIGN.md §11. Thin: services do the writes."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import APIView

from channels import connections, services
from channels.account_methods import channel_account_set_methods, checkout_method_error, publish_method_error
from channels.adapters.auth import auth_class
from channels.errors import ChannelsErrorCode
from channels.links import meta_checkout_url, shop_home_url
from channels.models import INTERNAL_CHANNELS, Channel, ChannelAccount, ChannelConnection
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

    channel = serializers.ChoiceField(
        choices=Channel.choices,
        help_text="`checkout` is the shop's own checkout (see `internal`): listed, never connected.",
    )
    internal = serializers.SerializerMethodField(
        help_text="true for the shop's own checkout account (channel `checkout`, the storefront's orders at "
        "/s/<shop>/): Shopadmin creates it with the first storefront order and keeps it. It is read-only: "
        "a PATCH, DELETE or feed token rotation is refused (`internal_account`)."
    )
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        required=False,
        write_only=True,
        help_text="Credentials a partner brings instead of authorising (`…/channel-connections/`): Meta: "
        "catalog_id, access_token (a system user token), commerce_account_id; TikTok Shop: access_token, "
        "shop_cipher (refresh_token optional); Pinterest: access_token, ad_account_id (refresh_token optional). "
        "A partner with its own app adds app_key/app_secret (TikTok) or app_secret (Meta). The channel checks "
        "them with one harmless read before anything is saved: the answer is 202 with the check to poll. "
        "Snapchat and Google Merchant: none. On PATCH, keys left out keep their value.",
    )
    credentials_masked = serializers.SerializerMethodField()
    markets = serializers.JSONField(
        required=False,
        help_text="The shop's markets the account sells in: country codes (\"GB\": the shop's market selling "
        'there), objects {"market", "country", "language", "currency"} or {"market_id"} (every country of that '
        "market). A market the shop does not have is refused (market_not_in_shop). Shown with each market's "
        "market_id.",
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
        help_text="`needs_reconnect` when the channel withdrew our authorisation or refused the token; "
        "`connection_message` says why, and the account's publishing, order imports and reconciliation stop. "
        "New `credentials` the channel accepts (or `…/authorize/`) mark the account connected again.",
    )
    connection_message = serializers.CharField(
        read_only=True, help_text="Why the account needs reconnecting, as the channel said it; empty otherwise."
    )
    token_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the access token expires (null: the channel gave no expiry). Tokens with a refresh "
        "token are renewed automatically before then; others need `…/authorize/` again.",
    )
    refresh_token_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_success_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The last call the channel answered."
    )
    last_error = serializers.CharField(read_only=True, help_text="The channel's last refusal, in words.")
    last_error_at = serializers.DateTimeField(read_only=True, allow_null=True)
    checkout_url = serializers.SerializerMethodField(
        allow_null=True,
        help_text="Meta and the shop's own checkout account (null for other channels): the shop's checkout URL, "
        "`<site>/s/<shop slug>/checkout/`, to paste into Meta's Commerce Manager (Settings → Checkout method → "
        "checkout on your website). Meta sends buyers there with the cart in `products` (`retailer_id:quantity` "
        "pairs, comma-separated; our retailer ids are the items' ids, the SKUs) and an optional `coupon`. "
        "Read-only: it follows the shop's slug.",
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
            "token_expires_at",
            "refresh_token_expires_at",
            "last_success_at",
            "last_error",
            "last_error_at",
            "webhook_url",
            "feeds",
            "checkout_url",
            "internal",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"api_base_url": {"required": False, "allow_blank": True}, "is_active": {"required": False}}

    def validate_channel(self, value: str) -> str:
        if value in INTERNAL_CHANNELS:
            raise serializers.ValidationError(
                "The shop's own checkout account is created by Shopadmin; connect one of the other channels.",
                code=ChannelsErrorCode.UNKNOWN_CHANNEL,
            )
        return value

    def get_internal(self, account) -> bool:
        return account.channel in INTERNAL_CHANNELS

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

    @extend_schema_field(OpenApiTypes.URI)
    def get_checkout_url(self, account) -> str | None:
        # The shop's own checkout account is that checkout: its address is the same one.
        url = shop_home_url(account.shop) + "checkout/" if account.channel in INTERNAL_CHANNELS else None
        url = url or meta_checkout_url(account)
        request = self.context.get("request")
        if url is not None and url.startswith("/") and request is not None:
            # Without a configured SITE_URL the path is made absolute from the request's host.
            url = request.build_absolute_uri(url)
        return url

    def validate(self, attrs):
        """publish_method and checkout_method must be ones the account's channel offers."""
        attrs = super().validate(attrs)
        channel = self.instance.channel if self.instance is not None else attrs.get("channel")
        if channel not in Channel.values:
            return attrs
        errors = {}
        if "publish_method" in attrs and (message := publish_method_error(channel, attrs["publish_method"])):
            errors["publish_method"] = [ErrorDetail(message, code=ChannelsErrorCode.PUBLISH_METHOD_UNAVAILABLE)]
        if "checkout_method" in attrs and (message := checkout_method_error(channel, attrs["checkout_method"])):
            errors["checkout_method"] = [ErrorDetail(message, code=ChannelsErrorCode.CHECKOUT_METHOD_UNAVAILABLE)]
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
    },
    "markets": ["US"],
}
EXAMPLE_REPLY = {
    "id": 7,
    "channel": "meta",
    "name": "Facebook & Instagram US",
    "credentials_masked": {"catalog_id": "••••2345", "access_token": "••••9xYz"},
    "api_base_url": f"https://graph.facebook.com/{settings.META_GRAPH_API_VERSION}",
    "markets": [{"market": "US", "country": "US", "language": "en", "currency": "USD", "market_id": 1}],
    "is_active": True,
    "publish_method": "api",
    "checkout_method": "on_channel",
    "connection_status": "connected",
    "connection_message": "",
    "token_expires_at": None,
    "refresh_token_expires_at": None,
    "last_success_at": "2026-12-06T09:30:00Z",
    "last_error": "",
    "last_error_at": None,
    "webhook_url": "https://shopadmin.example.com/webhooks/meta/Xq3…/",
    "feeds": [
        {
            "market": "US",
            "language": "en",
            "format": "csv",
            "url": "https://shopadmin.example.com/feeds/T0k…/meta-us-en.csv",
        }
    ],
    "checkout_url": "https://shopadmin.example.com/s/alice/checkout/",
    "internal": False,
}


class ChannelConnectionSerializer(serializers.ModelSerializer):
    """A connection attempt: an authorisation on the channel's page, or pasted credentials
    being checked. Poll it until `status` is `connected` (then `account` is set) or `failed`."""

    account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    choices = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        read_only=True,
        help_text="With `status: choose`: the shops (TikTok), ad accounts (Pinterest) or catalogs (Meta) the "
        "authorisation gives access to, as {id, label, detail}; POST one `id` to `…/choose/`.",
    )
    message = serializers.CharField(read_only=True, help_text="Why it failed, as the channel said it.")

    class Meta:
        model = ChannelConnection
        fields = ["id", "channel", "method", "status", "message", "account", "choices", "created_at", "updated_at"]
        read_only_fields = fields


# The channels a merchant authorises on the channel's own page (the others fetch a feed).
AUTHORIZABLE_CHANNELS = [(c, label) for c, label in Channel.choices if auth_class(c)]


class ConnectionStartSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=AUTHORIZABLE_CHANNELS)
    name = serializers.CharField(max_length=120)
    markets = serializers.JSONField(
        required=False, help_text='The shop\'s markets, as for an account: ["GB"], [{"market_id": 3}], …'
    )
    publish_method = serializers.ChoiceField(choices=ChannelAccount.PublishMethod.choices, required=False)
    checkout_method = serializers.ChoiceField(choices=ChannelAccount.CheckoutMethod.choices, required=False)


class AuthorizationSerializer(serializers.Serializer):
    authorization_url = serializers.URLField(
        help_text="Send the merchant's browser here: the channel's consent page. The channel sends them back to "
        "Shopadmin's callback, where they must be signed in as the user who created the API key; then poll "
        "the connection."
    )
    connection = ChannelConnectionSerializer()


class ChoiceSerializer(serializers.Serializer):
    choice = serializers.CharField(max_length=200, help_text="The `id` of one of the connection's `choices`.")


def _key_user(request):
    """The person an authorisation through the API is bound to: the API key's creator."""
    user = getattr(getattr(request, "auth", None), "created_by", None)
    if user is None:
        raise serializers.ValidationError(
            {
                "non_field_errors": [
                    ErrorDetail(
                        "This API key has no user to bind an authorisation to; create a key as a member.",
                        code=ChannelsErrorCode.API_KEY_WITHOUT_USER,
                    )
                ]
            }
        )
    return user


def _accepted(connection: ChannelConnection, request) -> Response:
    data = ChannelConnectionSerializer(connection, context={"request": request}).data
    location = reverse("api-channel-connection", args=[connection.pk])
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="List channel accounts"),
    post=extend_schema(
        tags=["channels"],
        summary="Connect a channel account with credentials you bring",
        description="Snapchat and Google Merchant (feed only) are created at once: 201. For Meta, TikTok Shop and "
        "Pinterest the channel first checks the credentials with one harmless read, in the background: 202 with "
        "the connection to poll (`Location`); nothing is saved if the channel refuses them. To let the merchant "
        "approve on the channel's own page instead, use `POST /channel-connections/`.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: ChannelAccountSerializer, 202: ChannelConnectionSerializer},
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
        methods = {"publish_method": data.get("publish_method"), "checkout_method": data.get("checkout_method")}
        if auth_class(data["channel"]) is not None:
            # Credentials the channel must accept first: the check runs in a task.
            connection = connections.connection_start_pasted(
                shop=request.shop,
                user=getattr(request.auth, "created_by", None),
                channel=data["channel"],
                credentials=data.get("credentials") or {},
                name=data["name"],
                markets=data.get("markets") or [],
                methods=methods,
                api_base_url=data.get("api_base_url", ""),
            )
            return _accepted(connection, request)
        account = services.channel_account_create(
            shop=request.shop,
            channel=data["channel"],
            name=data["name"],
            credentials=data.get("credentials") or {},
            api_base_url=data.get("api_base_url", ""),
            markets=data.get("markets") or [],
        )
        account = channel_account_set_methods(account=account, **methods)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="A channel account"),
    patch=extend_schema(
        tags=["channels"],
        summary="Change a channel account (credentials merge key by key)",
        description="New `credentials` are checked by the channel before they replace the stored ones: the answer "
        "is then 202 with the connection to poll; the other fields change at once.",
        responses={200: ChannelAccountSerializer, 202: ChannelConnectionSerializer},
    ),
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
                {
                    "channel": ErrorDetail(
                        "The channel of an account cannot change; connect a new account.",
                        code=ChannelsErrorCode.CHANNEL_UNCHANGEABLE,
                    )
                }
            )
        checked = bool(data.get("credentials")) and auth_class(account.channel) is not None
        account = services.channel_account_update(
            account=account,
            name=data.get("name"),
            credentials=None if checked else data.get("credentials"),
            api_base_url=data.get("api_base_url"),
            markets=data.get("markets"),
            is_active=data.get("is_active"),
        )
        account = channel_account_set_methods(
            account=account, publish_method=data.get("publish_method"), checkout_method=data.get("checkout_method")
        )
        if checked:
            # New credentials replace the old only once the channel accepts them.
            connection = connections.connection_start_pasted(
                shop=request.shop,
                user=getattr(request.auth, "created_by", None),
                channel=account.channel,
                credentials=data["credentials"],
                account=account,
            )
            return _accepted(connection, request)
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


@extend_schema(
    tags=["channels"],
    summary="Reconnect: the channel's authorisation page for this account",
    request=None,
    responses=AuthorizationSerializer,
)
class ChannelAccountAuthorize(APIView):
    scope = "channels"
    required_scopes = {"POST": "channels:write"}

    def post(self, request, pk: int):
        account = get_object_or_404(ChannelAccount, pk=pk)
        if auth_class(account.channel) is None:
            raise serializers.ValidationError(
                {
                    "channel": [
                        ErrorDetail(
                            "This channel fetches our feed; it has nothing to authorise.",
                            code=ChannelsErrorCode.NOTHING_TO_AUTHORIZE,
                        )
                    ]
                }
            )
        connection, url = connections.connection_start_authorize(
            shop=request.shop, user=_key_user(request), channel=account.channel, account=account
        )
        connection_data = ChannelConnectionSerializer(connection).data
        return Response({"authorization_url": url, "connection": connection_data})


@extend_schema_view(
    post=extend_schema(
        tags=["channels"],
        summary="Connect a channel account through the channel's authorisation page",
        request=ConnectionStartSerializer,
        responses={201: AuthorizationSerializer},
    ),
)
class ChannelConnectionCreate(APIView):
    scope = "channels"
    required_scopes = {"POST": "channels:write"}

    def post(self, request):
        serializer = ConnectionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        methods = {"publish_method": data.get("publish_method"), "checkout_method": data.get("checkout_method")}
        errors = {}
        checks = (
            ("publish_method", publish_method_error, ChannelsErrorCode.PUBLISH_METHOD_UNAVAILABLE),
            ("checkout_method", checkout_method_error, ChannelsErrorCode.CHECKOUT_METHOD_UNAVAILABLE),
        )
        for name, error_of, code in checks:
            if methods[name] and (message := error_of(data["channel"], methods[name])):
                errors[name] = [ErrorDetail(message, code=code)]
        if errors:
            raise serializers.ValidationError(errors)
        connection, url = connections.connection_start_authorize(
            shop=request.shop,
            user=_key_user(request),
            channel=data["channel"],
            name=data["name"],
            markets=data.get("markets") or [],
            methods=methods,
        )
        connection_data = ChannelConnectionSerializer(connection).data
        return Response({"authorization_url": url, "connection": connection_data}, status=status.HTTP_201_CREATED)


@extend_schema(tags=["channels"], summary="A connection attempt")
class ChannelConnectionDetail(generics.RetrieveAPIView):
    scope = "channels"
    serializer_class = ChannelConnectionSerializer

    def get_queryset(self):
        return ChannelConnection.objects.all()


@extend_schema(
    tags=["channels"],
    summary="Choose the shop, ad account or catalog to connect",
    request=ChoiceSerializer,
    responses=ChannelConnectionSerializer,
)
class ChannelConnectionChoose(APIView):
    scope = "channels"
    required_scopes = {"POST": "channels:write"}

    def post(self, request, pk: int):
        connection = get_object_or_404(ChannelConnection, pk=pk)
        serializer = ChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connection = connections.connection_choose(
            connection=connection, choice_id=serializer.validated_data["choice"], user=_key_user(request)
        )
        return Response(ChannelConnectionSerializer(connection).data)
