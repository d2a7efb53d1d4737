"""Pinterest (API v5): catalog item batches with polling."""

from __future__ import annotations

import httpx

from channels.adapters.base import (
    AdapterError,
    Availability,
    BatchStatus,
    ChannelAdapter,
    ChannelItem,
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


class PinterestAdapter(ChannelAdapter):
    channel = "pinterest"
    max_batch = 1000
    max_lengths = {"id": 127, "title": 500, "description": 10000}
    feed_formats = ("csv", "tsv")
    feed_columns = FEED_COLUMNS
    feed_availability_words = tuple(dict.fromkeys(AVAILABILITY.values()))
    batch_per_market = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Every batch names one country and language.
        self.country = (self.market.get("country") or "US").upper()
        self.language = (self.market.get("language") or "en").split("-")[0].split("_")[0].upper()

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

    def _json(self, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise AdapterError(
                f"Pinterest answered {response.status_code} without JSON.", status=response.status_code
            ) from exc
        if response.status_code >= 400:
            raise AdapterError(
                f"Pinterest refused the request: {body.get('message', response.status_code)}",
                status=response.status_code,
                code=str(body.get("code", "")),
                body=body,
            )
        return body

    def _batch(self, operation: str, items: list[dict]) -> str:
        self._check_batch_size(len(items))
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
            errors = [
                ItemError(e.get("message", ""), code=str(e.get("code", "")), field=e.get("attribute", ""))
                for e in record.get("errors") or []
            ]
            warnings = [
                ItemError(w.get("message", ""), code=str(w.get("code", "")), field=w.get("attribute", ""))
                for w in record.get("warnings") or []
            ]
            ok = record.get("status") == "SUCCESS"
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
