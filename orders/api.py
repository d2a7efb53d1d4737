"""/api/v1/orders/, reconciliation-runs/, reconciliation-issues/, customers/, discount-codes/. Thin: services write.

Reads need `orders:read`; fulfil, cancel, refund, runs, issue actions and erasure `orders:write`.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from channels.models import Channel, ChannelAccount
from orders import reconciliation, selectors
from orders.models import (
    Customer,
    DiscountCode,
    Fulfillment,
    IssueAction,
    IssueKind,
    Lifecycle,
    Order,
    OrderEvent,
    OrderLine,
    ReconciliationIssue,
    ReconciliationRun,
)
from orders.services.customers import customer_erase, customer_export
from orders.services.discounts import discount_code_create, discount_code_delete, discount_code_update
from orders.services.lifecycle import order_cancel, order_fulfill, order_refund
from shopadmin.api.filters import IdFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination

TAGS = ["orders"]


class BlankAsNullEmailField(serializers.EmailField):
    """An email address, or null when none is known (stored blank): never an empty string."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class BlankAsNullURLField(serializers.URLField):
    """A URL, or null when there is none (stored blank): never an empty string."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class OrderLineSerializer(serializers.ModelSerializer):
    variant = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Null when the catalog has no variant with the line's SKU."
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "variant",
            "channel_item_id",
            "sku",
            "title",
            "quantity",
            "unit_price",
            "tax",
            "line_total",
            "quantity_allocated",
            "quantity_short",
            "quantity_fulfilled",
            "quantity_cancelled",
            "quantity_refunded",
        ]
        read_only_fields = fields


class FulfillmentSerializer(serializers.ModelSerializer):
    tracking_url = BlankAsNullURLField(help_text="Null when no tracking URL was given.")
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Fulfillment
        fields = [
            "id",
            "carrier",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "source",
            "push_state",
            "push_error",
            "lines",
        ]
        read_only_fields = fields

    def get_lines(self, obj) -> list[dict]:
        return [{"line": fl.line_id, "quantity": fl.quantity} for fl in obj.lines.all()]


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["kind", "message", "created_at", "actor_label"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    market = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    customer = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Null when the order has no customer (or the customer was erased)."
    )
    buyer_email = BlankAsNullEmailField(help_text="Null when the channel gave no email address.")
    lines = OrderLineSerializer(many=True, read_only=True)
    fulfillments = FulfillmentSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    discount_code = serializers.SerializerMethodField(
        help_text="The discount code the order used (as the merchant wrote it); null when it used none."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "account",
            "channel",
            "external_id",
            "channel_status",
            "status",
            "placed_at",
            "channel_updated_at",
            "currency",
            "subtotal",
            "shipping",
            "tax",
            "duties",
            "discounts",
            "discount_code",
            "total",
            "shop_currency",
            "total_shop",
            "rate",
            "rate_source",
            "rate_date",
            "market",
            "customer",
            "buyer_name",
            "buyer_email",
            "buyer_message",
            "shipping_address",
            "acknowledged_at",
            "source",
            "campaign",
            "landing",
            "lines",
            "fulfillments",
            "events",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_discount_code(self, obj) -> str | None:
        used = next(iter(obj.discount_redemptions.all()), None)
        return used.code if used is not None else None


class PickSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)

    def to_internal_value(self, data) -> tuple[int, int]:
        # The services take (line id, quantity), as the UI's forms give them.
        value = super().to_internal_value(data)
        return value["line"], value["quantity"]


class FulfilSerializer(serializers.Serializer):
    lines = PickSerializer(many=True, required=False, help_text="Lines to ship; all open lines when left out.")
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lines = PickSerializer(many=True, required=False)
    restock = serializers.BooleanField(default=False)


class OrderFilter(django_filters.FilterSet):
    """Unknown values (`?status=AAA`, `?channel=nope`, `?placed_from=yesterday`) are a 400, never ignored."""

    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    status = django_filters.ChoiceFilter(choices=Lifecycle.choices)
    market = IdFilter(field_name="market", help_text="Market id")
    account = IdFilter(field_name="account", help_text="Channel account id")
    source = django_filters.CharFilter(
        max_length=40, label="Where the order came from (meta, instagram, whatsapp, direct, …; see channel-earnings/)."
    )
    placed_from = django_filters.DateFilter(
        field_name="placed_at", lookup_expr="date__gte", label="Placed on or after this date (YYYY-MM-DD)"
    )
    placed_to = django_filters.DateFilter(
        field_name="placed_at", lookup_expr="date__lte", label="Placed on or before this date (YYYY-MM-DD)"
    )
    q = django_filters.CharFilter(method="filter_q", label="External id, customer name or email, or SKU.")

    class Meta:
        model = Order
        fields = ["channel", "status", "market", "account"]

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(external_id__iexact=value)
            | Q(buyer_email__iexact=value)
            | Q(buyer_name__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(pk__in=Order.objects.filter(lines__sku__iexact=value).values("pk"))
        )


class PlacedCursor(CursorPagination):
    ordering = ("-placed_at", "-id")


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List orders"),
    retrieve=extend_schema(tags=TAGS, summary="An order with lines, fulfilments and timeline"),
)
class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    scope = "orders"
    serializer_class = OrderSerializer
    pagination_class = PlacedCursor
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list().prefetch_related("lines", "fulfillments__lines", "events", "discount_redemptions")

    def _fresh(self, order) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)

    def _write(self, request, body_class, write) -> Response:
        """Fulfil, cancel or refund: the body's fields are the service's arguments, the same the UI's
        forms give (orders.views._order_write); a refusal is a problem+json 400."""
        order = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        write(order=order, **body.validated_data)
        return self._fresh(order)

    @extend_schema(
        tags=TAGS,
        summary="Fulfil lines (pushed to the channel)",
        request=FulfilSerializer,
        responses={200: OrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Ship one line",
                value={"lines": [{"line": 12, "quantity": 1}], "carrier": "UPS", "tracking_number": "1Z999"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def fulfil(self, request, pk=None):
        return self._write(request, FulfilSerializer, order_fulfill)

    @extend_schema(
        tags=TAGS,
        summary="Cancel what has not shipped (pushed where the channel supports it)",
        request=CancelSerializer,
        responses={200: OrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        return self._write(request, CancelSerializer, order_cancel)

    @extend_schema(
        tags=TAGS,
        summary="Record a refund, optionally restocking lines",
        request=RefundSerializer,
        responses={200: OrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, pk=None):
        return self._write(request, RefundSerializer, order_refund)


# --- Reconciliation -------------------------------------------------------------------------


class ReconciliationRunSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=ChannelAccount.objects.all())
    job = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ReconciliationRun
        fields = [
            "id",
            "account",
            "status",
            "trigger",
            "window_start",
            "window_end",
            "orders_checked",
            "counts",
            "error",
            "job",
            "started_at",
            "finished_at",
        ]
        read_only_fields = [f for f in fields if f != "account"]


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Reconciliation run history"),
    retrieve=extend_schema(tags=TAGS, summary="A reconciliation run with counts by kind"),
    create=extend_schema(
        tags=TAGS,
        summary="Reconcile a channel account now",
        description="The run happens in the background: the answer is 202 with the run, `status: running`; "
        "follow it at `/api/v1/reconciliation-runs/{id}/`.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: ReconciliationRunSerializer},
        examples=[OpenApiExample("Run", value={"account": 3}, request_only=True)],
    ),
)
class ReconciliationRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    scope = "orders"
    serializer_class = ReconciliationRunSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return ReconciliationRun.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = reconciliation.reconciliation_start(account=serializer.validated_data["account"], trigger="api")
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class ReconciliationIssueSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    order = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Null when the issue concerns no order of ours (or it was deleted)."
    )
    run = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Null for an issue raised outside a reconciliation run."
    )
    pending_action = serializers.ChoiceField(
        choices=IssueAction.choices,
        read_only=True,
        allow_null=True,
        help_text="An action asked for and not yet done by the worker; null when none is waiting.",
    )
    action_error = serializers.CharField(
        read_only=True, allow_null=True, help_text="Why the last action asked for failed; null when it did not."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["pending_action"] = data["pending_action"] or None
        data["action_error"] = data["action_error"] or None
        return data

    class Meta:
        model = ReconciliationIssue
        fields = [
            "id",
            "account",
            "run",
            "order",
            "kind",
            "severity",
            "key",
            "ours",
            "theirs",
            "detail",
            "suggested_action",
            "pending_action",
            "action_error",
            "status",
            "resolution_note",
            "resolved_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class IssueActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=IssueAction.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReconciliationIssueFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReconciliationIssue.Status.choices)
    kind = django_filters.ChoiceFilter(choices=IssueKind.choices)
    account = IdFilter(field_name="account", help_text="Channel account id")

    class Meta:
        model = ReconciliationIssue
        fields = ["status", "kind", "account"]


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Reconciliation issues"),
    retrieve=extend_schema(tags=TAGS, summary="One issue, both values side by side"),
)
class ReconciliationIssueViewSet(viewsets.ReadOnlyModelViewSet):
    scope = "orders"
    serializer_class = ReconciliationIssueSerializer
    pagination_class = CursorPagination
    filterset_class = ReconciliationIssueFilter

    def get_queryset(self):
        return ReconciliationIssue.objects.all()

    @extend_schema(
        tags=TAGS,
        summary="One-click action: import, refresh, re-push, or resolve with a note",
        request=IssueActSerializer,
        responses={200: ReconciliationIssueSerializer, 202: ReconciliationIssueSerializer},
        description=(
            "`resolve` is done at once (200). `import`, `refresh`, `repush` and `republish` talk to the "
            "channel: they are queued (202, `pending_action` set) and done by the worker, which resolves "
            "the issue or records why not in `action_error`."
        ),
        examples=[
            OpenApiExample("Resolve", value={"action": "resolve", "note": "Refunded by phone"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def act(self, request, pk=None):
        issue = self.get_object()
        body = IssueActSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issue = reconciliation.issue_act_request(
            issue=issue, action=body.validated_data["action"], note=body.validated_data["note"]
        )
        # Resolving is done at once; the other actions talk to the channel and are done by the worker.
        status_code = status.HTTP_202_ACCEPTED if issue.pending_action else status.HTTP_200_OK
        return Response(self.get_serializer(issue).data, status=status_code)


# --- Customers ------------------------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer):
    email = BlankAsNullEmailField(help_text="Null when no email address is known (or the customer was erased).")

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "marketing_consent", "created_at", "updated_at", "erased_at"]
        read_only_fields = fields


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact", label="Email address (case-insensitive)")

    class Meta:
        model = Customer
        fields = ["email"]


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Customers"),
    retrieve=extend_schema(tags=TAGS, summary="A customer"),
)
class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    scope = "orders"
    required_scopes = None  # set per action below
    serializer_class = CustomerSerializer
    pagination_class = CursorPagination
    filterset_class = CustomerFilter

    def get_queryset(self):
        return Customer.objects.all()

    @extend_schema(
        tags=TAGS, summary="Everything held about the customer (data access request)", responses=OpenApiTypes.OBJECT
    )
    # Personal data leaves the shop here: the write scope, not merely read, is required.
    @action(detail=True, methods=["get"], required_scopes={"GET": "orders:write"})
    def export(self, request, pk=None):
        return Response(customer_export(customer=self.get_object()))

    @extend_schema(
        tags=TAGS,
        summary="Erase the customer's personal data (amounts are kept)",
        request=None,
        responses={200: CustomerSerializer},
    )
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        customer = customer_erase(customer=self.get_object())
        return Response(self.get_serializer(customer).data)


# --- Discount codes -------------------------------------------------------------------------

DISCOUNT_STATES = ["active", "scheduled", "expired", "used_up", "inactive"]


class DiscountCodeSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        help_text="percentage: the percent off the subtotal (0 < value <= 100); fixed: the amount off, "
        "in the shop currency (converted into the basket's currency at checkout).",
    )
    minimum_subtotal = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="The smallest basket subtotal the code applies to, in the shop currency; null: any basket.",
    )
    state = serializers.ChoiceField(
        choices=DISCOUNT_STATES,
        read_only=True,
        source="current_state",
        help_text="What a buyer typing the code now meets: active, scheduled (not started), expired, "
        "used_up or inactive.",
    )

    class Meta:
        model = DiscountCode
        fields = [
            "id",
            "code",
            "kind",
            "value",
            "starts_at",
            "ends_at",
            "usage_limit",
            "times_used",
            "minimum_subtotal",
            "is_active",
            "state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "times_used", "state", "created_at", "updated_at"]
        extra_kwargs = {
            "code": {"help_text": "Letters, digits, - and _ (up to 40); unique in the shop whatever the case."},
            "usage_limit": {"help_text": "How many orders may use the code in all; null: no limit."},
            "starts_at": {"help_text": "From when the code applies; null: from now."},
            "ends_at": {"help_text": "Until when the code applies (exclusive); null: no end."},
            "is_active": {"required": False, "help_text": "false: the code applies to no new basket."},
        }


class DiscountCodeFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="iexact", label="The code, whatever its case.")
    kind = django_filters.ChoiceFilter(choices=DiscountCode.Kind.choices)

    class Meta:
        model = DiscountCode
        fields = ["code", "kind"]


DISCOUNT_EXAMPLE = {
    "code": "SUMMER-10",
    "kind": "percentage",
    "value": "10",
    "starts_at": "2027-06-01T00:00:00Z",
    "ends_at": "2027-09-01T00:00:00Z",
    "usage_limit": 500,
    "minimum_subtotal": "30.00",
}


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List discount codes"),
    retrieve=extend_schema(tags=TAGS, summary="A discount code with its uses"),
    create=extend_schema(
        tags=TAGS,
        summary="Create a discount code",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("10% off in summer, 500 uses", value=DISCOUNT_EXAMPLE, request_only=True),
            OpenApiExample(
                "5.00 off baskets of 25.00 or more",
                value={"code": "WELCOME5", "kind": "fixed", "value": "5.00", "minimum_subtotal": "25.00"},
                request_only=True,
            ),
        ],
    ),
    update=extend_schema(tags=TAGS, summary="Replace a discount code"),
    partial_update=extend_schema(
        tags=TAGS,
        summary='Change a discount code (`{"is_active": false}` deactivates it)',
        examples=[OpenApiExample("Deactivate", value={"is_active": False}, request_only=True)],
    ),
    destroy=extend_schema(
        tags=TAGS,
        summary="Delete a discount code no order has used",
        description="A code orders have used is refused (400, `discount_code_used`): deactivate it instead.",
    ),
)
class DiscountCodeViewSet(viewsets.ModelViewSet):
    scope = "orders"
    serializer_class = DiscountCodeSerializer
    pagination_class = CursorPagination
    filterset_class = DiscountCodeFilter

    def get_queryset(self):
        return DiscountCode.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        discount = discount_code_create(shop=request.shop, **serializer.validated_data)
        return Response(self.get_serializer(discount).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        discount = self.get_object()
        serializer = self.get_serializer(discount, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        discount = discount_code_update(discount=discount, **serializer.validated_data)
        return Response(self.get_serializer(discount).data)

    def perform_destroy(self, instance):
        discount_code_delete(discount=instance)
