"""/api/v1/ad-spend/ and /api/v1/channel-earnings/: what each channel earns. Thin: services write,
orders.earnings reads.

Reads need `orders:read`; entering, changing and removing ad spend `orders:write`.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.earnings import BY, DEFAULT_DAYS, FIRST_DAY, LAST_DAY, channel_earnings, default_range
from orders.models import AdSpend
from orders.services import ad_spend as services
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination

TAGS = ["orders"]
SOURCE_HELP = (
    "Where the ads ran, as the landings name it: meta, facebook, instagram, messenger, whatsapp, tiktok_shop, "
    "pinterest, snapchat, google_merchant, or your own utm_source. Lower-cased; usual spellings are "
    "normalised (fb → facebook, tiktok → tiktok_shop, google → google_merchant)."
)


class AdSpendSerializer(serializers.ModelSerializer):
    source = serializers.CharField(max_length=40, help_text=SOURCE_HELP)
    month = serializers.DateField(help_text="Any day of the month (YYYY-MM-DD); stored and answered as its first day.")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, help_text="In the shop currency (see GET /api/v1/shop/)."
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = AdSpend
        fields = ["id", "source", "month", "amount", "note", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class AdSpendFilter(django_filters.FilterSet):
    """Unknown values (`?month_from=yesterday`) are a 400, never ignored."""

    source = django_filters.CharFilter(max_length=40, label="Source (exact, lower-case)")
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte", label="Months from this date on")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte", label="Months up to this date")

    class Meta:
        model = AdSpend
        fields = ["source"]


class MonthCursor(CursorPagination):
    ordering = ("-month", "-id")


AD_SPEND_EXAMPLE = {"source": "instagram", "month": "2026-11-01", "amount": "250.00", "note": "Diwali boost"}


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="Ad spend per source and month"),
    retrieve=extend_schema(tags=TAGS, summary="A month's ad spend with one source"),
    create=extend_schema(
        tags=TAGS,
        summary="Enter a month's ad spend with a source",
        description="One entry per source and month: a second one for the same month is refused "
        "(`ad_spend_month_taken`); change the first instead.",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Instagram in November", value=AD_SPEND_EXAMPLE, request_only=True)],
    ),
    update=extend_schema(tags=TAGS, summary="Replace a month's ad spend"),
    partial_update=extend_schema(tags=TAGS, summary="Change a month's ad spend"),
    destroy=extend_schema(tags=TAGS, summary="Remove a month's ad spend"),
)
class AdSpendViewSet(viewsets.ModelViewSet):
    scope = "orders"
    serializer_class = AdSpendSerializer
    pagination_class = MonthCursor
    filterset_class = AdSpendFilter

    def get_queryset(self):
        return AdSpend.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        spend = services.ad_spend_create(shop=request.shop, **body.validated_data)
        return Response(self.get_serializer(spend).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        spend = self.get_object()
        body = self.get_serializer(spend, data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        spend = services.ad_spend_update(spend=spend, **body.validated_data)
        return Response(self.get_serializer(spend).data)

    def perform_destroy(self, instance):
        services.ad_spend_delete(spend=instance)


# --- The report ---------------------------------------------------------------------------------


class EarningsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First local day (default: 29 days before `end`).")
    end = serializers.DateField(required=False, help_text="Last local day, included (default: today).")
    by = serializers.ChoiceField(choices=list(BY), required=False, default="source")

    def _day(self, value):
        if not FIRST_DAY <= value <= LAST_DAY:
            raise serializers.ValidationError(
                f"Pick a day between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.", code="date_range_invalid"
            )
        return value

    def validate_start(self, value):
        return self._day(value)

    def validate_end(self, value):
        return self._day(value)


class EarningsRowSerializer(serializers.Serializer):
    source = serializers.CharField()
    label = serializers.CharField(help_text="The source's name (English unless the request asks for a language).")
    campaign = serializers.CharField(allow_null=True, help_text="Null in rows per source (by=source).")
    page_views = serializers.IntegerField()
    checkout_starts = serializers.IntegerField()
    orders = serializers.IntegerField()
    conversion_rate = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="Orders ÷ page views; null without page views."
    )
    revenue = serializers.DecimalField(max_digits=20, decimal_places=3)
    average_order = serializers.DecimalField(max_digits=20, decimal_places=3, allow_null=True)
    ad_spend = serializers.DecimalField(
        max_digits=20,
        decimal_places=3,
        allow_null=True,
        help_text="The months of spend overlapping the range, prorated by days; null when none was entered "
        "(and always in campaign rows: spend is entered per source).",
    )
    roas = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="Revenue ÷ ad spend; null without spend."
    )


class EarningsTotalSerializer(EarningsRowSerializer):
    source = None
    label = None
    campaign = None


class EarningsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by = serializers.ChoiceField(choices=list(BY))
    currency = serializers.CharField(help_text="The shop currency: every amount is in it.")
    rows = EarningsRowSerializer(many=True)
    total = EarningsTotalSerializer()


class ChannelEarningsView(APIView):
    scope = "orders"

    @extend_schema(
        tags=TAGS,
        summary="What each channel earns: visits, orders, revenue, ad spend and ROAS per source (or campaign)",
        description=(
            "Over the shop's local days `start`…`end` (both included; at most 731 days). Revenue is the orders' "
            "total in the shop currency, cancelled and refunded orders left out; conversion is orders ÷ page views; "
            "ad spend counts each month for its days inside the range; ROAS is revenue ÷ ad spend."
        ),
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First local day (default: 29 days before `end`)."
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last local day, included (default: today)."),
            OpenApiParameter("by", str, enum=list(BY), description="source (default) or campaign"),
        ],
        responses={200: EarningsSerializer},
    )
    def get(self, request):
        query = EarningsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        end = query.validated_data.get("end") or default_range(request.shop.timezone)[1]
        start = query.validated_data.get("start") or max(FIRST_DAY, end - dt.timedelta(days=DEFAULT_DAYS - 1))
        report = channel_earnings(
            start=start,
            end=end,
            by=query.validated_data.get("by") or "source",
            tz_name=request.shop.timezone,
            currency=request.shop.default_currency,
        )
        return Response(EarningsSerializer(report).data)
