"""/api/v1/listings/ and /api/v1/publish-plans/ (DESIGN.md §11). Thin: services do the writes."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.listings import listing_update
from channels.models import ChannelAccount, ChannelListing, ListingStatus, PublishPlan, PublishPlanItem
from channels.publishing import plan_outcome, publish_plan_apply, publish_plan_create
from shopadmin.api.filters import IdFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination


class ListingSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    variant = serializers.PrimaryKeyRelatedField(read_only=True)
    custom_labels = serializers.ListField(child=serializers.CharField(max_length=100), max_length=5, required=False)

    class Meta:
        model = ChannelListing
        fields = [
            "id", "account", "variant", "item_id", "status", "channel_item_id", "accepted_hash", "published_at",
            "errors", "warnings", "title_override", "description_override", "category_override", "custom_labels",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "item_id", "status", "channel_item_id", "accepted_hash", "published_at", "errors", "warnings",
            "updated_at",
        ]  # fmt: skip


class ListingFilter(django_filters.FilterSet):
    """Unknown values (`?status=AAA`, `?account=x`) are a 400, never ignored."""

    account = IdFilter(field_name="account", help_text="Only this channel account's listings")
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices, label="Only listings in this status")

    class Meta:
        model = ChannelListing
        fields = ["account", "status"]


@extend_schema_view(get=extend_schema(tags=["channels"], summary="List listings"))
class ListingList(generics.ListAPIView):
    scope = "channels"
    serializer_class = ListingSerializer
    pagination_class = CursorPagination
    filterset_class = ListingFilter

    def get_queryset(self):
        return ChannelListing.objects.all()


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="A listing"),
    patch=extend_schema(tags=["channels"], summary="Change a listing's overrides"),
)
class ListingDetail(generics.RetrieveUpdateAPIView):
    scope = "channels"
    serializer_class = ListingSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return ChannelListing.objects.all()

    def patch(self, request, *args, **kwargs):
        listing = self.get_object()
        serializer = self.get_serializer(listing, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        listing = listing_update(listing=listing, **serializer.validated_data)
        return Response(self.get_serializer(listing).data)


class PlanItemSerializer(serializers.ModelSerializer):
    item_id = serializers.CharField(source="listing.item_id")

    class Meta:
        model = PublishPlanItem
        fields = ["listing", "item_id", "action", "changes", "payload", "outcome"]


class RejectionReasonSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField(help_text="Items rejected for this reason")
    examples = serializers.SerializerMethodField(help_text="A few of those items' ids")

    def get_examples(self, reason) -> list[str]:
        return [item_id for _listing_id, item_id in reason["examples"]]


class PlanOutcomeSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    not_sent = serializers.IntegerField(help_text="Items never sent: the channel refused the plan as a whole")
    message = serializers.CharField(help_text="Why the plan was not applied (status `failed`); empty otherwise")
    reasons = RejectionReasonSerializer(many=True, help_text="The rejections grouped by reason, most frequent first")


class PublishPlanSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=ChannelAccount.objects.all())
    apply = serializers.BooleanField(write_only=True, required=False, default=False)
    job = serializers.SerializerMethodField()

    class Meta:
        model = PublishPlan
        fields = [
            "id", "account", "apply", "status", "automatic", "creates", "updates", "deletes", "unchanged", "invalid",
            "job", "created_at", "applied_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "status", "automatic", "creates", "updates", "deletes", "unchanged", "invalid", "created_at",
            "applied_at", "finished_at",
        ]  # fmt: skip

    def get_job(self, plan) -> dict | None:
        if plan.job is None:
            return None
        return {"id": plan.job.pk, "status": plan.job.status, "done": plan.job.done, "total": plan.job.total}


class PlanDetailSerializer(PublishPlanSerializer):
    outcome = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta(PublishPlanSerializer.Meta):
        fields = [*PublishPlanSerializer.Meta.fields, "outcome", "items"]

    @extend_schema_field(PlanOutcomeSerializer(allow_null=True))
    def get_outcome(self, plan) -> dict | None:
        """What applying did; null until the plan finished."""
        outcome = plan_outcome(plan)
        return PlanOutcomeSerializer(outcome).data if outcome["finished"] else None

    def get_items(self, plan) -> list[dict]:
        # The first 1,000 changes; the counts above say how many there are in all.
        items = plan.items.select_related("listing").order_by("id")[:1000]
        return PlanItemSerializer(items, many=True).data


@extend_schema_view(
    get=extend_schema(tags=["channels"], summary="List publish plans"),
    post=extend_schema(
        tags=["channels"],
        summary="Compute what would change on an account's channel (and apply it with apply=true)",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: PlanDetailSerializer},
    ),
)
class PublishPlanListCreate(generics.ListCreateAPIView):
    scope = "channels"
    serializer_class = PublishPlanSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return PublishPlan.objects.select_related("job")

    @idempotent
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = publish_plan_create(account=serializer.validated_data["account"])
        if serializer.validated_data.get("apply"):
            plan = publish_plan_apply(plan=plan)
        return Response(PlanDetailSerializer(plan).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["channels"], summary="A publish plan with its changes (field-level for updates)")
class PublishPlanDetail(generics.RetrieveAPIView):
    scope = "channels"
    serializer_class = PlanDetailSerializer

    def get_queryset(self):
        return PublishPlan.objects.select_related("job")


@extend_schema(
    tags=["channels"],
    summary="Apply a reviewed plan",
    description="The changes are sent to the channel in the background: the answer is 202 with the plan "
    "and its `job`; follow it at `/api/v1/publish-plans/{id}/`.",
    request=None,
    responses={202: PublishPlanSerializer},
)
class PublishPlanApply(APIView):
    scope = "channels"
    required_scopes = {"POST": "channels:write"}

    @idempotent
    def post(self, request, pk: int):
        plan = get_object_or_404(PublishPlan, pk=pk)
        plan = publish_plan_apply(plan=plan)
        return Response(PublishPlanSerializer(plan).data, status=status.HTTP_202_ACCEPTED)
