"""Pinterest (API v5): catalog item batches with polling.

Request and response shapes are those of Pinterest's OpenAPI description
(github.com/pinterest/api-description, v5/openapi.json): POST /v5/catalogs/items/batch takes
{country, language, operation, items: [{item_id, attributes}]} (CatalogsItemsBatchRequest),
GET /v5/catalogs/items/batch/{batch_id} answers CatalogsRetailItemsBatch whose items[] are
ItemProcessingRecords with errors[]/warnings[] of ItemValidationEvent {attribute, code, message}.
"""

from __future__ import annotations

import httpx
from django.utils.translation import gettext_lazy

from channels.adapters.auth import AuthorizationRefused
from channels.adapters.base import (
    AdapterError,
    Availability,
    BatchStatus,
    ChannelAdapter,
    ChannelItem,
    CredentialSpec,
    ItemError,
    ItemResult,
    custom_label_fields,
    format_price,
    product_attributes,
)

AVAILABILITY = {
    Availability.IN_STOCK: "in stock",
    Availability.OUT_OF_STOCK: "out of stock",
    Availability.PREORDER: "preorder",
    Availability.BACKORDER: "preorder",
    Availability.DISCONTINUED: "out of stock",
}
OPERATIONS = ("CREATE", "UPDATE", "UPSERT", "DELETE", "DELETE_DISCONTINUED")
CUSTOM_LABEL_COLUMNS = tuple(f"custom_label_{i}" for i in range(5))
FEED_COLUMNS = (
    "id", "title", "description", "link", "image_link", "price", "sale_price", "availability", "condition", "brand",
    "gtin", "mpn", "item_group_id", "google_product_category", "size", "color", *CUSTOM_LABEL_COLUMNS,
)  # fmt: skip


PINTEREST_ALWAYS_SENT = {"title", "description", "link", "image_link", "price", "availability", "condition"}


# The two-letter languages a batch may name (S:Language/enum, ISO 639-1 upper case).
LANGUAGES = frozenset({
    "AM", "AR", "AZ", "BG", "BN", "BS", "CA", "CS", "DA", "DV", "DZ", "DE", "EL", "EN", "ES", "ET", "FA", "FI", "FR",
    "HE", "HI", "HR", "HU", "HY", "ID", "IN", "IS", "IT", "IW", "JA", "KA", "KM", "KO", "LO", "LT", "LV", "MK", "MN",
    "MS", "MY", "NB", "NE", "NL", "NO", "PL", "PT", "RO", "RU", "SK", "SL", "SQ", "SR", "SV", "TL", "UK", "VI", "TE",
    "TH", "TR", "XX", "ZH",
})  # fmt: skip
# UpdatableItemAttributes: custom_label_0…4 maxLength 511.
CUSTOM_LABEL_MAX = 511
# The Error code of a token without the scopes an operation needs (the example of
# POST /ad_accounts/{ad_account_id}/msot/events: "Your token does not have sufficient permissions …").
MISSING_SCOPE = 3


class PinterestAdapter(ChannelAdapter):
    channel = "pinterest"
    credential_specs = (
        CredentialSpec(
            "access_token",
            gettext_lazy("Access token"),
            gettext_lazy("An OAuth token with catalogs:read and catalogs:write."),
        ),
        CredentialSpec(
            "ad_account_id",
            gettext_lazy("Ad account ID"),
            gettext_lazy("Ads Manager → Overview."),
            secret=False,
            pattern=r"^\d{1,30}$",
            pattern_hint=gettext_lazy("digits only"),
        ),
        CredentialSpec(
            "refresh_token",
            gettext_lazy("Refresh token"),
            gettext_lazy("Optional: lets the access token be renewed before it expires."),
            required=False,
        ),
    )
    api_host = "https://api.pinterest.com"
    # CatalogsItems{Create,Update,Upsert}BatchRequest.items.maxItems.
    max_batch = 1000
    # "<= N characters" in UpdatableItemAttributes' descriptions.
    max_lengths = {"id": 127, "title": 500, "description": 10000, "link": 511, "item_group_id": 127}
    sale_prices = "while_running"
    feed_formats = ("csv", "tsv")
    feed_columns = FEED_COLUMNS
    feed_availability_words = tuple(dict.fromkeys(AVAILABILITY.values()))
    batch_per_market = True
    feed_excludes_api = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Every batch names one country and language.
        self.country = (self.market.get("country") or "US").upper()
        self.language = (self.market.get("language") or "en").split("-")[0].split("_")[0].upper()

    def market_payload(self, payload: dict) -> dict:
        return payload["attributes"]

    def feed_row(self, payload: dict) -> dict:
        attributes = dict(payload.get("attributes") or {})
        attributes["image_link"] = (attributes.get("image_link") or [""])[0]
        return {"id": payload.get("item_id", ""), **attributes}

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.credentials.get('access_token', '')}"}

    def build_payload(self, item: ChannelItem) -> dict:
        shared = product_attributes(item, AVAILABILITY)
        del shared["id"]  # Pinterest takes the id beside the attributes, not among them
        attributes = {k: v for k, v in shared.items() if v or k in PINTEREST_ALWAYS_SENT}
        attributes["image_link"] = [item.image_link]
        if item.sale_price is not None:
            attributes["sale_price"] = format_price(item.sale_price, item.currency)
        attributes.update(custom_label_fields(item))
        return {"item_id": item.id, "attributes": attributes}

    def validate_item(self, item: ChannelItem) -> list[ItemError]:
        errors = super().validate_item(item)
        for index, label in enumerate(item.custom_labels[:5]):
            if len(label or "") > CUSTOM_LABEL_MAX:
                errors.append(
                    ItemError(
                        f"custom_label_{index} is {len(label)} characters; at most {CUSTOM_LABEL_MAX}.",
                        code="too_long",
                        field=f"custom_label_{index}",
                    )
                )
        return errors

    def _json(self, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise AdapterError(
                f"Pinterest answered {response.status_code} without JSON.", status=response.status_code
            ) from exc
        if response.status_code >= 400:
            message = body.get("message", response.status_code)
            if response.status_code == 401 or (response.status_code == 403 and body.get("code") == MISSING_SCOPE):
                # The token, not an item: only reconnecting helps, so the batch fails as a whole.
                raise AuthorizationRefused(
                    f"Pinterest refused the access token: {str(message).strip().rstrip('.')}. Reconnect the account.",
                    status=response.status_code,
                    code=str(body.get("code", "")),
                    body=body,
                )
            if response.status_code == 403 and response.request.method == "POST":
                # Pinterest restricts API writes to catalogs without a feed data source.
                message = (
                    f"{message} — a catalog fed by a feed data source takes no API writes; publish this account "
                    "through the feed instead, or remove the catalog's feed data source."
                )
            raise AdapterError(
                f"Pinterest refused the request: {message}",
                status=response.status_code,
                code=str(body.get("code", "")),
                body=body,
            )
        return body

    def _batch(self, operation: str, items: list[dict]) -> str:
        self._check_batch_size(len(items))
        if self.language not in LANGUAGES:
            # Pinterest would refuse the whole batch (400); say why before sending it.
            raise AdapterError(f"Pinterest catalogs take no items in the language {self.language}.")
        response = self.client.request(
            "POST",
            "/v5/catalogs/items/batch",
            params={"ad_account_id": self.credentials.get("ad_account_id", "")},
            json={"country": self.country, "language": self.language, "operation": operation, "items": items},
        )
        return self._json(response)["batch_id"]

    def publish_batch(self, items: list[ChannelItem]) -> str:
        return self._batch("UPSERT", [self.build_payload(item) for item in items])

    def delete_items(self, items: list[ChannelItem]) -> str:
        item_ids = [item.id for item in items]
        return self._batch("DELETE", [{"item_id": item_id} for item_id in item_ids])

    def batch_status(self, handle: str, *, sent_ids: list[str] | None = None) -> BatchStatus:
        response = self.client.request(
            "GET",
            f"/v5/catalogs/items/batch/{handle}",
            params={"ad_account_id": self.credentials.get("ad_account_id", "")},
        )
        body = self._json(response)
        results = []
        for record in body.get("items") or []:
            errors = [_event(e) for e in record.get("errors") or []]
            warnings = [_event(w) for w in record.get("warnings") or []]
            # ItemProcessingRecord.errors: "A non empty errors list causes the item processing to fail."
            ok = record.get("status") == "SUCCESS" and not errors
            results.append(
                ItemResult(
                    item_id=record.get("item_id", ""),
                    ok=ok,
                    channel_item_id=record.get("item_id", "") if ok else "",
                    errors=errors,
                    warnings=warnings,
                )
            )
        status = body.get("status")
        return BatchStatus(
            handle=handle, done=status in ("COMPLETED", "FAILED"), failed=status == "FAILED", results=results, raw=body
        )


def _event(event: dict) -> ItemError:
    """An ItemValidationEvent ({attribute, code: integer, message}) as our ItemError."""
    code = event.get("code", "")
    return ItemError(
        str(event.get("message", "")),
        code=str(code) if code is not None else "",
        field=str(event.get("attribute") or ""),
    )
