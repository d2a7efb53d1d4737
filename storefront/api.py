"""/api/v1/storefront-settings/ and /api/v1/chat-orders/. Thin: the merchant pages' checks and
the storefront's services do the work.

The settings need `channels:read` / `channels:write` (the storefront is the shop's own sales
channel; its checkout account is among the channel accounts). Orders taken in chat need
`orders:read` / `orders:write`. An order from a chat is checked by the merchant page's own form
(`storefront.forms.ChatOrderForm`: SKUs, quantities, phone, the country's address fields,
market, payment method) and made by the same services (`chat_draft_create`, `chat_order_place`).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response

from channels.links import shop_home_url
from localization.models import Market
from orders.api import BlankAsNullEmailField, OrderSerializer
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination
from storefront import services
from storefront.addresses import DEFAULT, FORMATS, POSTCODE_FIRST
from storefront.cart import MAX_QUANTITY, parse_products
from storefront.forms import chat_order_form
from storefront.links import chat_draft_url
from storefront.models import AUDITED_FIELDS, ChatDraft, ChatSource, PaymentMethod, StorefrontSettings

# --- Storefront settings ----------------------------------------------------------------------


class StorefrontSettingsSerializer(serializers.ModelSerializer):
    home_url = serializers.SerializerMethodField(help_text="The shop's public home page (read-only).")
    checkout_url = serializers.SerializerMethodField(
        help_text="The shop's checkout, Meta's checkout URL (read-only; see channel-accounts/)."
    )

    class Meta:
        model = StorefrontSettings
        fields = [*AUDITED_FIELDS, "home_url", "checkout_url", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {
            "published": {"help_text": "false: the shop's public pages (and its checkout) answer 404."},
            "whatsapp_number": {
                "help_text": "International form, 8–15 digits (`+880 1712 345678`); empty: no WhatsApp button."
            },
            "messenger_page": {
                "help_text": "The Facebook page's user name (m.me/<name>; a full m.me link is shortened to it)."
            },
        }

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if url.startswith("/") and request is not None else url

    @extend_schema_field(OpenApiTypes.URI)
    def get_home_url(self, obj) -> str:
        return self._absolute(shop_home_url(self.context["request"].shop))

    @extend_schema_field(OpenApiTypes.URI)
    def get_checkout_url(self, obj) -> str:
        return self._absolute(shop_home_url(self.context["request"].shop) + "checkout/")


SETTINGS_EXAMPLE = {
    "cod_enabled": True,
    "cod_instructions": "Pay the courier in cash.",
    "mobile_money_enabled": True,
    "mobile_money_instructions": "bKash 01712-345678 (merchant), reference: your phone number.",
    "whatsapp_number": "+880 1712 345678",
}


@extend_schema_view(
    get=extend_schema(tags=["storefront"], summary="The shop's storefront settings"),
    put=extend_schema(
        tags=["storefront"],
        summary="Replace the storefront settings (fields left out take their defaults)",
        examples=[OpenApiExample("Cash on delivery and bKash", value=SETTINGS_EXAMPLE, request_only=True)],
    ),
    patch=extend_schema(
        tags=["storefront"],
        summary="Change some storefront settings",
        examples=[OpenApiExample("Unpublish", value={"published": False}, request_only=True)],
    ),
)
class StorefrontSettingsView(generics.GenericAPIView):
    """One per shop. The checks are the merchant page's: a WhatsApp number in international
    form (`whatsapp_number_invalid`), a Messenger user name (`messenger_page_invalid`), and at
    least one way to buy (`no_payment_method`: a payment method or a chat)."""

    scope = "channels"
    serializer_class = StorefrontSettingsSerializer

    def get_object(self):
        return services.settings_get()

    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    def put(self, request):
        return self._write(request, partial=False)

    def patch(self, request):
        return self._write(request, partial=True)

    def _write(self, request, *, partial: bool) -> Response:
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if not partial:
            defaults = {name: StorefrontSettings._meta.get_field(name).get_default() for name in AUDITED_FIELDS}
            fields = {**defaults, **fields}
        settings = services.storefront_settings_update(**fields)
        return Response(self.get_serializer(settings).data)


# --- Orders taken in chat ---------------------------------------------------------------------

CHAT_ORDER_MODES = [
    ("draft", "A link the buyer confirms (the order is placed when they do)"),
    ("place", "The order, placed at once"),
]
ADDRESS_KEYS = sorted({spec.key for specs in [*FORMATS.values(), POSTCODE_FIRST, DEFAULT] for spec in specs})


class ChatOrderItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ChatOrderAddressSerializer(serializers.Serializer):
    country = serializers.CharField(
        max_length=2,
        required=False,
        help_text="ISO 3166-1 code, one of the market's countries; default: the market's first.",
    )

    def get_fields(self):
        fields = super().get_fields()
        for key in ADDRESS_KEYS:
            fields[key] = serializers.CharField(max_length=200, required=False, allow_blank=True)
        return fields


class ChatOrderCreateSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CHAT_ORDER_MODES, default="draft")
    market = serializers.IntegerField(
        required=False, help_text="The id of an active market the order is priced in; default: the home market."
    )
    source = serializers.ChoiceField(choices=ChatSource.choices, help_text="Where the conversation happened.")
    items = ChatOrderItemSerializer(many=True, allow_empty=False, max_length=50)
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=40)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    address = ChatOrderAddressSerializer(
        help_text="The country's address fields: line1, line2, city, district, region, postcode "
        "(which are required depends on the country, as at the checkout). In the US and Canada `region` is "
        "the state or province code (`NY`, `ON`): it prices the sales tax."
    )
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, help_text="One the shop enabled in its storefront settings."
    )
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ChatDraftItemSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ChatDraftSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=ChatDraft.Status.choices,
        source="current_status",
        read_only=True,
        help_text="open: waiting for the buyer; confirmed: the order is placed (`order`); expired: the link "
        "is past `expires_at`; cancelled: the merchant withdrew it (its page says so).",
    )
    confirmation_url = serializers.SerializerMethodField(
        help_text="The buyer's page: send it in the chat. It shows the order at the market's prices and "
        "confirms it once; afterwards it shows the order, or that the draft was cancelled."
    )
    items = serializers.SerializerMethodField()
    market = serializers.PrimaryKeyRelatedField(read_only=True)
    email = BlankAsNullEmailField(help_text="Null when none was given.")
    address = serializers.DictField(child=serializers.CharField(), read_only=True)
    order = serializers.SerializerMethodField(help_text="The order's id once the buyer confirmed; null before.")

    class Meta:
        model = ChatDraft
        fields = [
            "id",
            "status",
            "confirmation_url",
            "items",
            "market",
            "source",
            "name",
            "phone",
            "email",
            "address",
            "payment_method",
            "note",
            "order",
            "created_at",
            "expires_at",
            "confirmed_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_confirmation_url(self, draft) -> str:
        request = self.context["request"]
        return chat_draft_url(request, request.shop, draft)

    @extend_schema_field(ChatDraftItemSerializer(many=True))
    def get_items(self, draft) -> list[dict]:
        return [{"sku": i.retailer_id, "quantity": i.quantity} for i in parse_products(draft.products).items]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_order(self, draft) -> int | None:
        return draft.receipt.order_id if draft.receipt_id else None


class ChatOrderResultSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CHAT_ORDER_MODES)
    draft = ChatDraftSerializer(allow_null=True, help_text="mode draft: the draft; null when placed at once.")
    order = OrderSerializer(allow_null=True, help_text="mode place: the order; null for a draft.")


# Where the form and the services name a field, and where the API's body has it.
_FORM_FIELDS = {"cart": "items", "products": "items", "__all__": "non_field_errors"}


def _api_field(name: str) -> str:
    if name in ADDRESS_KEYS or name == "country":
        return f"address.{name}"
    return _FORM_FIELDS.get(name, name)


def _refused(errors: dict) -> serializers.ValidationError:
    """Form or service errors ({field: [ValidationError]}) as the API's field errors, codes kept."""
    detail: dict[str, list] = {}
    for name, field_errors in errors.items():
        for error in field_errors:
            for message in error.messages if isinstance(error, DjangoValidationError) else [str(error)]:
                code = getattr(error, "code", None) or "invalid"
                detail.setdefault(_api_field(name), []).append(ErrorDetail(message, code=code))
    return serializers.ValidationError(detail)


class ChatDraftFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ChatDraft.Status.choices, method="filter_status", label="The draft's status as `status` shows it."
    )

    class Meta:
        model = ChatDraft
        fields = ["status"]

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        if value == ChatDraft.Status.OPEN:
            return queryset.filter(status=value, expires_at__gt=now)
        if value == ChatDraft.Status.EXPIRED:
            return queryset.filter(Q(status=value) | Q(status=ChatDraft.Status.OPEN, expires_at__lte=now))
        return queryset.filter(status=value)


CREATE_EXAMPLE = {
    "mode": "draft",
    "source": "whatsapp",
    "items": [{"sku": "TEE-S", "quantity": 2}],
    "name": "Rahim Uddin",
    "phone": "+880 1712 345678",
    "address": {"country": "BD", "line1": "House 12, Road 5", "city": "Dhanmondi", "district": "Dhaka"},
    "payment_method": "cod",
}


@extend_schema_view(
    list=extend_schema(tags=["storefront"], summary="Orders taken in chat: the drafts sent to buyers"),
    retrieve=extend_schema(tags=["storefront"], summary="A chat draft, its status and its order"),
    create=extend_schema(
        tags=["storefront"],
        summary="Take an order from a chat: a link for the buyer to confirm, or the order at once",
        description="`mode: draft` (default) answers 201 with the draft and its `confirmation_url` to send in "
        "the chat; the order is placed when the buyer confirms there (stock is checked then). `mode: place` "
        "places the order at once (stock locked; short stock refused, `out_of_stock`) and answers 201 with "
        "it. The checks are the merchant page's: unknown SKU (`chat_items_invalid`), a phone number "
        "(`phone_invalid`), the country's address fields (`required`, `postcode_invalid`), an active market "
        "of the shop and a payment method the shop enabled (`invalid_choice`).",
        request=ChatOrderCreateSerializer,
        responses={201: ChatOrderResultSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("A draft from WhatsApp", value=CREATE_EXAMPLE, request_only=True)],
    ),
)
class ChatOrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    scope = "orders"
    serializer_class = ChatDraftSerializer
    pagination_class = CursorPagination
    filterset_class = ChatDraftFilter

    def get_queryset(self):
        return ChatDraft.objects.select_related("receipt")

    @idempotent
    def create(self, request, *args, **kwargs):
        body = ChatOrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        markets = list(Market.objects.filter(is_active=True).order_by("-is_home", "name", "id"))
        if not markets:
            raise serializers.ValidationError(
                {"market": [ErrorDetail("The shop has no active market to price the order in.", code="market_invalid")]}
            )
        address = dict(data["address"])
        market_id = data.get("market", markets[0].pk)
        quantities: dict[str, int] = {}
        for item in data["items"]:
            quantities[item["sku"]] = quantities.get(item["sku"], 0) + item["quantity"]
        form_data = {
            **{key: value for key, value in address.items() if key != "country"},
            "items": "",
            "market": str(market_id),
            "source": data["source"],
            "name": data["name"],
            "phone": data["phone"],
            "email": data["email"],
            "payment_method": data["payment_method"],
            "note": data["note"],
        }
        form = chat_order_form(
            form_data,
            shop=request.shop,
            markets=markets,
            methods=services.settings_get().payment_methods(),
            params={"market": market_id, "country": address.get("country", "")},
            extra_quantities={sku: str(qty) for sku, qty in quantities.items()},
        )
        # No country given: the market's first, as the merchant page preselects it.
        form_data["country"] = (address.get("country") or form.country).strip().upper()
        if not form.is_valid():
            raise _refused(form.errors.as_data())
        cd = form.cleaned_data
        try:
            if data["mode"] == "place":
                receipt = services.chat_order_place(
                    shop=request.shop, market=cd["market"], items=cd["items"], source=cd["source"], **form.buyer()
                )
            else:
                draft = services.chat_draft_create(
                    shop=request.shop,
                    market=cd["market"],
                    items=cd["items"],
                    source=cd["source"],
                    created_by=getattr(request.auth, "created_by", None),
                    **form.buyer(),
                )
        except DjangoValidationError as exc:
            raise _refused(exc.error_dict if hasattr(exc, "error_dict") else {"__all__": [exc]}) from None
        context = self.get_serializer_context()
        if data["mode"] == "place":
            from orders import selectors

            order = (
                selectors.order_list()
                .prefetch_related("lines", "fulfillments__lines", "events", "discount_redemptions")
                .get(pk=receipt.order_id)
            )
            result = {"mode": "place", "draft": None, "order": order}
            location = reverse("api-order-detail", args=[order.pk])
        else:
            result = {"mode": "draft", "draft": draft, "order": None}
            location = reverse("api-chat-order-detail", args=[draft.pk])
        return Response(
            ChatOrderResultSerializer(result, context=context).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    @extend_schema(
        tags=["storefront"],
        summary="Cancel a draft before the buyer confirms it",
        description="Its link then says the order was cancelled and cannot be confirmed. Cancelling again "
        "changes nothing; a draft the buyer confirmed is refused (`chat_draft_confirmed`: cancel the order "
        "instead). To change a draft, cancel it and create a new one.",
        request=None,
        responses={200: ChatDraftSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        draft = services.chat_draft_cancel(draft=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=draft.pk)).data)
