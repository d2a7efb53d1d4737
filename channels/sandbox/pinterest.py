"""Pinterest's API v5, simulated: catalog item batches and their status.

Shapes, limits and codes follow Pinterest's OpenAPI description (github.com/pinterest/
api-description, v5/openapi.json); docs/channels.md lists each fact with its JSON pointer.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.sandbox import grants
from channels.sandbox.common import bearer, json_body, token_ok
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxBatch, SandboxItem

# The credential the simulated account is known by (SandboxAccount.key).
ACCOUNT_KEY = "ad_account_id"

# CatalogsItems{Create,Update,Upsert}BatchRequest.properties.items.maxItems (the DELETE
# request states none; the strictest reading holds it to the same 1,000).
PINTEREST_MAX_ITEMS = 1000
OPERATIONS = ("UPDATE", "UPSERT", "CREATE", "DELETE_DISCONTINUED", "DELETE")  # BatchOperation.enum
WRITES = ("UPSERT", "CREATE", "UPDATE")
# UpdatableItemAttributes.properties.availability / .condition: "upper or lowercased".
PINTEREST_AVAILABILITY = ("in stock", "out of stock", "preorder")
PINTEREST_CONDITIONS = ("new", "used", "refurbished")
# UpdatableItemAttributes.properties.price: "24.99 USD", "24.99USD" and "24.99".
PINTEREST_PRICE = re.compile(r"^\d+(\.\d+)? ?([A-Z]{3})?$")
# Lengths the attribute descriptions state ("<= N characters").
PINTEREST_MAX_LENGTHS = {
    "title": 500,
    "description": 10000,
    "link": 511,
    "item_group_id": 127,
    "product_type": 1000,
    **{f"custom_label_{i}": 511 for i in range(5)},
}
PINTEREST_IMAGE_LINK_MAX = 2000

# Every attribute ItemAttributesRequest names (its allOf: image and video links,
# UpdatableItemAttributes, the restricted ad image and video links).
PINTEREST_ATTRIBUTES = frozenset(
    {
        "additional_image_link", "image_link", "save_pin_disabled", "video_link",
        "ad_link", "adult", "age_group", "android_deep_link", "availability", "average_review_rating", "brand",
        "checkout_enabled", "color", "condition", "description", "free_shipping_label", "free_shipping_limit",
        "gender", "google_product_category", "gtin", "id", "installment_price", "ios_deep_link", "item_group_id",
        "last_updated_time", "link", "material", "min_ad_price", "mobile_link", "mpn", "number_of_ratings",
        "number_of_reviews", "pattern", "price", "product_type", "promotion_id", "sale_price",
        "sale_price_effective_date", "shipping", "shipping_height", "shipping_weight", "shipping_width", "size",
        "size_system", "size_type", "tax", "title", "unit_pricing_base_measure", "unit_pricing_measure",
        "variant_names", "variant_values",
        *(f"custom_label_{i}" for i in range(5)),
        *(f"custom_number_{i}" for i in range(5)),
        *(f"ad_image_{i}_{kind}" for i in range(20) for kind in ("link", "tag")),
        *(f"ad_video_{i}_{kind}" for i in range(3) for kind in ("link", "tag")),
    }
)  # fmt: skip


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Country.enum, Language.enum and CatalogsLocale.enum.
PINTEREST_COUNTRIES = _codes(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO "
    "JP KE KG KH KI KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS "
    "MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS "
    "RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW "
    "TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
PINTEREST_LANGUAGES = _codes(
    "AM AR AZ BG BN BS CA CS DA DV DZ DE EL EN ES ET FA FI FR HE HI HR HU HY ID IN IS IT IW JA KA KM KO LO LT LV MK MN "
    "MS MY NB NE NL NO PL PT RO RU SK SL SQ SR SV TL UK VI TE TH TR XX ZH "
    "af-ZA ar-SA bg-BG bn-IN cs-CZ da-DK de el-GR en-AU en-CA en-GB en-IN en-US es-419 es-AR es-ES es-MX fi-FI "
    "fr fr-CA he-IL hi-IN hr-HR hu-HU id-ID it ja ko-KR ms-MY nb-NO nl pl-PL pt-BR pt-PT ro-RO ru-RU sk-SK sv-SE "
    "te-IN th-TH tl-PH tr uk-UA vi-VN zh-CN zh-TW"
)

# Per-item validation events (ItemValidationEvent: attribute, integer code, message). Pinterest
# documents one code, 106 "Title is missing …" (ItemValidationEvent.properties.code.example);
# the other numbers are the sandbox's own. Messages and the split into errors (the item is not
# published) and warnings are those of CatalogsItemValidationErrors / …Warnings.
EVENTS = {
    "ITEMID_MISSING": (101, "Item is missing item id in its product metadata, this item will not be published."),
    "TITLE_MISSING": (106, "Item is missing title in its product metadata, this item will not be published."),
    "DESCRIPTION_MISSING": (
        107,
        "Item is missing description in its product metadata, this item will not be published.",
    ),
    "PRODUCT_LINK_MISSING": (
        108,
        "Item is missing a link URL in its product metadata, this item will not be published.",
    ),
    "IMAGE_LINK_MISSING": (
        109,
        "Item is missing an image link URL in its product metadata, this item will not be published.",
    ),
    "PRICE_MISSING": (110, "Product is missing a price, this item will not be published."),
    "AVAILABILITY_INVALID": (
        111,
        "Item is missing availability value in its product metadata, this item will not be published.",
    ),
    "PRODUCT_PRICE_INVALID": (
        112,
        "Item has a price formatting error in its product metadata, this item will not be published.",
    ),
    "LINK_LENGTH_TOO_LONG": (113, "Product link contains too many characters, this item will not be published."),
    "IMAGE_LINK_INVALID": (114, "Image link is invalid."),
    "IMAGE_LINK_LENGTH_TOO_LONG": (
        115,
        "Item has image_link URL that contains too many characters, so the item will not be published.",
    ),
    "ITEM_MAIN_IMAGE_DOWNLOAD_FAILURE": (116, "Main image can't be found."),
    "ITEM_ALREADY_EXISTS": (117, "Item already exists."),
    "ITEM_NOT_FOUND": (118, "Item not found."),
    # Warnings: the item is published, the attribute truncated or dropped.
    "TITLE_LENGTH_TOO_LONG": (
        201,
        "The title for the item was truncated because it contains too many characters.",
    ),
    "DESCRIPTION_LENGTH_TOO_LONG": (
        202,
        "The description for this item was truncated because it contains too many characters.",
    ),
    "SALES_PRICE_INVALID": (203, "Item has an incorrectly formatted sales price."),
    "CUSTOM_LABEL_LENGTH_TOO_LONG": (
        204,
        "Item has a custom_label value that is too long, this item will be published without that custom label.",
    ),
    "OPTIONAL_CONDITION_INVALID": (
        205,
        "Item includes a condition value that is formatted incorrectly, which may limit visibility in "
        "recommendations, search results and shopping experiences.",
    ),
    "PRODUCT_TYPE_LENGTH_TOO_LONG": (
        206,
        "Item has a product_type value that is too long, this item will be published without that product type.",
    ),
}
REQUIRED = (
    ("title", "TITLE_MISSING"),
    ("description", "DESCRIPTION_MISSING"),
    ("link", "PRODUCT_LINK_MISSING"),
    ("image_link", "IMAGE_LINK_MISSING"),
    ("price", "PRICE_MISSING"),
    ("availability", "AVAILABILITY_INVALID"),
)


def event(attribute: str, name: str) -> dict:
    code, message = EVENTS[name]
    return {"attribute": attribute, "code": code, "message": message}


def pinterest_item(item: dict) -> tuple[list[dict], list[dict]]:
    """(errors, warnings) of one item's attributes, as ItemValidationEvents."""
    attributes = item.get("attributes") or {}
    errors, warnings = [], []
    if not item.get("item_id"):
        errors.append(event("item_id", "ITEMID_MISSING"))
    for name, problem in REQUIRED:
        if attributes.get(name) in (None, "", []):
            errors.append(event(name, problem))
    price = attributes.get("price")
    if price and not PINTEREST_PRICE.match(str(price)):
        errors.append(event("price", "PRODUCT_PRICE_INVALID"))
    availability = attributes.get("availability")
    if availability and str(availability).lower() not in PINTEREST_AVAILABILITY:
        errors.append(event("availability", "AVAILABILITY_INVALID"))
    if len(str(attributes.get("link") or "")) > PINTEREST_MAX_LENGTHS["link"]:
        errors.append(event("link", "LINK_LENGTH_TOO_LONG"))
    image = attributes.get("image_link")
    if image not in (None, "", []):
        # ItemAttributesRequest: a string or a list of exactly one URL, http(s), <= 2000 characters.
        images = image if isinstance(image, list) else [image]
        if len(images) != 1 or not isinstance(images[0], str) or not images[0].startswith(("http://", "https://")):
            errors.append(event("image_link", "IMAGE_LINK_INVALID"))
        elif len(images[0]) > PINTEREST_IMAGE_LINK_MAX:
            errors.append(event("image_link", "IMAGE_LINK_LENGTH_TOO_LONG"))
    sale_price = attributes.get("sale_price")
    if sale_price and not PINTEREST_PRICE.match(str(sale_price)):
        warnings.append(event("sale_price", "SALES_PRICE_INVALID"))
    condition = attributes.get("condition")
    if condition and str(condition).lower() not in PINTEREST_CONDITIONS:
        warnings.append(event("condition", "OPTIONAL_CONDITION_INVALID"))
    for name, problem in (
        ("title", "TITLE_LENGTH_TOO_LONG"),
        ("description", "DESCRIPTION_LENGTH_TOO_LONG"),
        ("product_type", "PRODUCT_TYPE_LENGTH_TOO_LONG"),
        *((f"custom_label_{i}", "CUSTOM_LABEL_LENGTH_TOO_LONG") for i in range(5)),
    ):
        if len(str(attributes.get(name) or "")) > PINTEREST_MAX_LENGTHS[name]:
            warnings.append(event(name, problem))
    return errors, warnings


def _pinterest_error(code: int, message: str, status: int):
    """Pinterest's Error schema: {"code": integer, "message": string}."""
    return JsonResponse({"code": code, "message": message}, status=status)


def _invalid(body, reason: str):
    # The 400 example of POST /catalogs/items/batch: code 1, "Invalid request: <body> (<reason>)".
    return _pinterest_error(1, f"Invalid request: {body!r} ({reason})", 400)


def _auth_failed():
    # The documented 401 of the catalogs endpoints (UnauthenticatedAccess).
    return _pinterest_error(2, "Authentication failed.", 401)


def _missing_scope():
    # The Error example of a token without the operation's scopes (POST /ad_accounts/{id}/msot/events).
    return _pinterest_error(3, MISSING_SCOPE_MESSAGE, 403)


def _pinterest_account(request, *, scopes: tuple[str, ...]):
    """The ad account the call names, if the bearer token may use it with `scopes`."""
    account = (
        SandboxAccount.objects.select_for_update()
        .filter(channel="pinterest", key=request.GET.get("ad_account_id", ""))
        .first()
    )
    token = bearer(request)
    if account is None or grants.token_state(account, token) != "ok":
        # Unknown, expired and revoked tokens alike.
        return None, _auth_failed()
    if not token_ok(account, token):
        # A token from the consent page carries the scopes the seller approved.
        grant = grants.grant_for_token("pinterest", token)
        if grant is None or not set(scopes) <= _scopes(grant.scope):
            return None, _missing_scope()
    return account, inject(account, request)


def _request_problem(body) -> str:
    """Why a batch request does not match CatalogsItemsBatchRequest, or ""."""
    if not isinstance(body, dict):
        return "the body is not an object"
    unknown = set(body) - {"country", "language", "operation", "items"}
    if unknown:  # additionalProperties: false
        return f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)"
    for name in ("country", "language", "operation", "items"):
        if name not in body:
            return f"'{name}' is a required property"
    if body["operation"] not in OPERATIONS:
        return f"{body['operation']!r} is not one of {list(OPERATIONS)}"
    if body["country"] not in PINTEREST_COUNTRIES:
        return f"{body['country']!r} is not one of the Country values"
    if body["language"] not in PINTEREST_LANGUAGES:
        return f"{body['language']!r} is not one of the Language or CatalogsLocale values"
    items = body["items"]
    if not isinstance(items, list):
        return f"{items!r} is not of type array"
    if not items:
        return "[] is too short"
    if len(items) > PINTEREST_MAX_ITEMS:
        return f"items has {len(items)} entries; at most {PINTEREST_MAX_ITEMS}"
    for record in items:
        if not isinstance(record, dict):
            return f"{record!r} is not of type object"
        allowed = {"item_id"} | ({"attributes"} if body["operation"] in WRITES else set())
        if body["operation"] == "UPDATE":
            allowed.add("update_mask")
        extra = set(record) - allowed
        if extra:
            # The record schemas state no additionalProperties; the strictest reading refuses
            # what they do not name.
            return f"Additional properties are not allowed ({', '.join(sorted(extra))} were unexpected)"
        if not isinstance(record.get("item_id", ""), str):
            return f"{record.get('item_id')!r} is not of type string"
        attributes = record.get("attributes")
        if attributes is None:
            continue
        if not isinstance(attributes, dict):
            return f"{attributes!r} is not of type object"
        unknown = set(attributes) - PINTEREST_ATTRIBUTES
        if unknown:
            # ItemAttributesRequest does not say additionalProperties: false; the strictest
            # reading refuses attribute names it does not name (a misspelt one is lost).
            return f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)"
        image = attributes.get("image_link")
        if image is not None and not isinstance(image, str | list):
            return f"{image!r} is not of type array"
    return ""


@csrf_exempt
@require_http_methods(["POST"])
def pinterest_items_batch(request):
    # Security of POST /catalogs/items/batch: catalogs:read and catalogs:write.
    account, fault = _pinterest_account(request, scopes=("catalogs:read", "catalogs:write"))
    if account is None or fault is not None:
        return fault
    body = json_body(request)
    if body is None:
        return _pinterest_error(1, "Invalid request: the body is not JSON.", 400)
    problem = _request_problem(body)
    if problem:
        return _invalid(body if len(str(body)) < 500 else "…", problem)
    operation, items = body["operation"], body["items"]
    if operation in WRITES and (account.settings or {}).get("feed_data_source"):
        # "The item UPSERT operation is restricted to users without a feed data source"
        # (POST /catalogs/items/batch, description). No error code is documented: the strictest
        # reading refuses every write (CREATE and UPDATE too) as the documented 403 "Not
        # authorized to post catalogs items", with the code of the catalogs endpoints' other
        # permission refusals (29).
        return _pinterest_error(
            29,
            f"{operation} is restricted to catalogs without a feed data source; this catalog is fed by a feed.",
            403,
        )
    batch = SandboxBatch.objects.create(
        account=account,
        handle=uuid.uuid4().hex,
        operation=operation,
        requests=items,
        polls_left=int((account.faults or {}).get("processing_polls", 0)),
        # Until processed, the batch remembers the locale it names (its items are per locale).
        results={"country": str(body["country"]).upper(), "language": str(body["language"]).upper()},
    )
    return JsonResponse(_batch_body(batch, "PROCESSING", []))


def _batch_body(batch: SandboxBatch, status: str, items: list) -> dict:
    """CatalogsRetailItemsBatch: catalog_type and created_time required."""
    done = status in ("COMPLETED", "FAILED")
    return {
        "catalog_type": "RETAIL",
        "batch_id": batch.handle,
        "status": status,
        "items": items,
        "created_time": batch.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "completed_time": timezone.now().strftime("%Y-%m-%dT%H:%M:%S") if done else None,
    }


def _record(item_id: str, errors: list, warnings: list) -> dict:
    """ItemProcessingRecord: a non-empty errors list fails the item."""
    return {"item_id": item_id, "status": "FAILURE" if errors else "SUCCESS", "errors": errors, "warnings": warnings}


def _pinterest_apply(account, batch) -> None:
    locale = f"{batch.results.get('country', '')}|{batch.results.get('language', '')}"
    records = []
    for item in batch.requests:
        item_id = str(item.get("item_id", ""))
        if batch.operation in ("DELETE", "DELETE_DISCONTINUED"):
            SandboxItem.objects.filter(account=account, item_id=item_id).update(active=False)
            records.append(_record(item_id, [], []))
            continue
        exists = SandboxItem.objects.filter(account=account, item_id=item_id).first()
        if batch.operation == "UPDATE" and exists:
            # UpdatableItemAttributes: an update names only what changes; the item keeps the rest.
            base = exists.overrides.get(locale) or (exists.data or {}).get("attributes") or {}
            item = {**item, "attributes": {**base, **(item.get("attributes") or {})}}
        errors, warnings = pinterest_item(item)
        if not errors and rejected(account, item_id):
            errors = [event("image_link", "ITEM_MAIN_IMAGE_DOWNLOAD_FAILURE")]
        if not errors and batch.operation == "CREATE" and exists and exists.active:
            errors = [event("item_id", "ITEM_ALREADY_EXISTS")]
        if batch.operation == "UPDATE" and not exists:
            errors, warnings = [event("item_id", "ITEM_NOT_FOUND")], []
        if errors:
            records.append(_record(item_id, errors, warnings))
            continue
        attributes = item.get("attributes") or {}
        if exists:
            exists.overrides[locale] = attributes
            exists.data, exists.active, exists.updates, exists.updated_at = (
                item,
                True,
                exists.updates + 1,
                timezone.now(),
            )
            exists.save()
        else:
            SandboxItem.objects.create(account=account, item_id=item_id, data=item, overrides={locale: attributes})
        records.append(_record(item_id, [], warnings))
    batch.status = "COMPLETED"
    batch.results = {"items": records}
    batch.save()


@require_http_methods(["GET"])
def pinterest_batch_status(request, batch_id: str):
    account, fault = _pinterest_account(request, scopes=("catalogs:read",))
    if account is None or fault is not None:
        return fault
    batch = SandboxBatch.objects.select_for_update().filter(account=account, handle=batch_id).first()
    if batch is None:
        # The documented 404 of GET /catalogs/items/batch/{batch_id}.
        return _pinterest_error(4331, "Sorry! We could not find your batch ID.", 404)
    if batch.status != "COMPLETED":
        if batch.polls_left > 0:
            batch.polls_left -= 1
            batch.save(update_fields=["polls_left"])
            return JsonResponse(_batch_body(batch, "PROCESSING", []))
        _pinterest_apply(account, batch)
    return JsonResponse(_batch_body(batch, batch.status, batch.results.get("items", [])))


# --- Authorisation: the /oauth/ consent page, POST /v5/oauth/token, the ad accounts ---------------

# components.securitySchemes.pinterest_oauth2.flows.authorizationCode.scopes.
PINTEREST_SCOPES = frozenset(
    {
        "ads:read", "ads:write", "billing:read", "billing:write", "biz_access:read", "biz_access:write",
        "boards:read", "boards:read_secret", "boards:write", "boards:write_secret", "catalogs:read",
        "catalogs:write", "msot:write", "pins:read", "pins:read_secret", "pins:write", "pins:write_secret",
        "user_accounts:read", "user_accounts:write",
    }
)  # fmt: skip
# Access tokens last 30 days (pinterest/pinterest-python-sdk README: "valid for thirty days");
# continuous refresh tokens 60 days, renewed by every refresh (POST /oauth/token description).
ACCESS_TTL = timedelta(days=30)
REFRESH_TTL = timedelta(days=60)
MISSING_SCOPE_MESSAGE = (
    "Your token does not have sufficient permissions to perform this operation. "
    "Please ensure your token is authorized with the correct set of scopes."
)
SELLER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
AD_ACCOUNT_ID = re.compile(r"^\d{1,18}$")  # AdAccountKey: pattern ^\d+$, maxLength 18
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 25, 250  # Pinterest.Lib.BookmarkParams.page_size


def registered_redirect_uri() -> str:
    """The one redirect URI the deployment's app registered with Pinterest: our callback."""
    return settings.SITE_URL + reverse("channel-connect-callback", args=["pinterest"])


def _scopes(text: str) -> set[str]:
    return {scope for scope in (text or "").split(",") if scope}


def _oauth_failure(code: int, message: str, data: str, status: int) -> JsonResponse:
    # What Pinterest's /oauth/ page shows when it cannot send the browser back to the app.
    return JsonResponse(
        {"status": "failure", "code": code, "message": message, "data": data, "endpoint_name": "oauth_connect"},
        status=status,
    )


def _back(redirect_uri: str, **params) -> HttpResponseRedirect:
    query = urlencode({k: v for k, v in params.items() if v})
    return HttpResponseRedirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}")


def _ad_account_key(seller: str, index: int) -> str:
    digest = int(hashlib.sha256(seller.encode()).hexdigest(), 16) % 10**12
    return f"5497{digest:012d}{index}"


def _ensure_ad_accounts(seller: str, count: int) -> None:
    """The seller has at least `count` ad accounts (created on first consent)."""
    have = grants.seller_accounts("pinterest", seller).count()
    for index in range(have, count):
        SandboxAccount.objects.get_or_create(
            channel="pinterest",
            key=_ad_account_key(seller, index),
            defaults={
                "seller": seller,
                "settings": {"ad_account": {"name": f"{seller} ads {index + 1}", "country": "US", "currency": "USD"}},
            },
        )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def pinterest_oauth(request):
    """https://www.pinterest.com/oauth/: client_id, redirect_uri, response_type=code, scope
    (comma-separated), state. The seller approves (a code goes back to redirect_uri) or declines."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    if not grants.app_secret("pinterest", client_id):
        return _oauth_failure(283, "The authorization grant is invalid", "Invalid Application ID", 400)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri != registered_redirect_uri():
        return _oauth_failure(
            7,
            "You are not permitted to access that resource.",
            f"The provided redirect_uri {redirect_uri} does not match any of the registered redirect URIs.",
            403,
        )
    state = params.get("state", "")
    # The redirect URI is the app's own: later refusals go back to it (RFC 6749 §4.1.2.1).
    if params.get("response_type") != "code":
        return _back(
            redirect_uri,
            error="unsupported_response_type",
            error_description="response_type must be code.",
            state=state,
        )
    scopes = sorted(_scopes(params.get("scope", "")))
    unknown = [scope for scope in scopes if scope not in PINTEREST_SCOPES]
    if not scopes or unknown:
        return _back(
            redirect_uri,
            error="invalid_scope",
            error_description=f"Unknown scope: {', '.join(unknown)}." if unknown else "No scope was requested.",
            state=state,
        )
    decision = request.POST.get("decision") if request.method == "POST" else None
    if decision not in ("allow", "deny"):
        return grants.consent_page(
            request,
            channel_label="Pinterest",
            app_label=f"App {client_id}",
            scopes=scopes,
            hidden={k: params.get(k, "") for k in ("client_id", "redirect_uri", "response_type", "scope", "state")},
            extra=[{"name": "ad_accounts", "label": "Ad accounts", "options": ["1", "2", "3"], "value": "1"}],
        )
    if decision == "deny":
        return _back(
            redirect_uri, error="access_denied", error_description="The user denied your app access.", state=state
        )
    seller = request.POST.get("seller", "").strip()
    count = request.POST.get("ad_accounts", "1")
    if not SELLER_NAME.match(seller) or count not in ("1", "2", "3"):
        return HttpResponseBadRequest(
            "Sign in with a seller name (letters, digits, . _ -) and pick 1 to 3 ad accounts."
        )
    _ensure_ad_accounts(seller, int(count))
    grant = grants.issue_code(
        channel="pinterest", client_id=client_id, seller=seller, scope=",".join(scopes), redirect_uri=redirect_uri
    )
    return _back(redirect_uri, code=grant.code, state=state)


def _basic_client(request) -> str:
    """The app id of a request with the right HTTP Basic credentials, or ""."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return ""
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ").strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ""
    client_id, _, secret = decoded.partition(":")
    expected = grants.app_secret("pinterest", client_id)
    if not expected or not secrets.compare_digest(expected.encode(), secret.encode()):
        return ""
    return client_id


def _invalid_grant() -> JsonResponse:
    # A code or refresh token that is unknown, used, expired, revoked or for another redirect
    # URI (Pinterest's answer to a bad refresh token, pinterest/pinterest-python-sdk#114).
    return _pinterest_error(283, "The authorization grant is invalid", 401)


def _token_body(grant, response_type: str) -> dict:
    """OauthAccessTokenResponseCode / OauthAccessTokenResponseRefresh."""
    now = timezone.now()
    return {
        "access_token": grant.access_token,
        "token_type": "bearer",
        "expires_in": max(0, round((grant.access_expires_at - now).total_seconds())),
        "scope": grant.scope,
        "response_type": response_type,
        "refresh_token": grant.refresh_token,
        "refresh_token_expires_in": max(0, round((grant.refresh_expires_at - now).total_seconds())),
        "refresh_token_expires_at": int(grant.refresh_expires_at.timestamp()),
    }


@csrf_exempt
@require_http_methods(["POST"])
def pinterest_oauth_token(request):
    """POST /v5/oauth/token: Basic auth (app id:secret), form body (OauthAccessTokenRequest)."""
    client_id = _basic_client(request)
    if not client_id:
        # The documented 401 of the Basic-authenticated oauth operations.
        return _auth_failed()
    form = request.POST
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
        if not code or not redirect_uri:
            return _pinterest_error(1, "Invalid parameters.", 400)  # both required
        grant, _why = grants.redeem_code(channel="pinterest", client_id=client_id, code=code)
        if grant is None or grant.redirect_uri != redirect_uri:
            return _invalid_grant()
        grants.issue_tokens(grant, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)
        return JsonResponse(_token_body(grant, "authorization_code"))
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            return _pinterest_error(1, "Invalid parameters.", 400)
        grant, _why = grants.grant_by_refresh_token(
            channel="pinterest", client_id=client_id, refresh_token=refresh_token
        )
        if grant is None:
            return _invalid_grant()
        if form.get("scope"):
            # A refresh may narrow the scopes, never widen them.
            narrowed = _scopes(form["scope"])
            if not narrowed <= _scopes(grant.scope):
                return _invalid_grant()
            grant.scope = ",".join(sorted(narrowed))
        # Continuous refresh: a new refresh token (and 60 more days) with every refresh.
        grants.issue_tokens(grant, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)
        return JsonResponse(_token_body(grant, "refresh_token"))
    # client_credentials (a token for the app itself, no seller) is not simulated.
    return _pinterest_error(1, "Invalid parameters.", 400)


def _visible_accounts(request):
    """(the ad accounts the bearer token can see, None) or (None, Pinterest's refusal)."""
    token = bearer(request)
    grant = grants.grant_for_token("pinterest", token)
    if grant is not None:
        # Security of GET /ad_accounts and GET /ad_accounts/{ad_account_id}: ads:read.
        if "ads:read" not in _scopes(grant.scope):
            return None, _missing_scope()
        return grants.seller_accounts("pinterest", grant.seller), None
    if token:
        # A token set through the control endpoint: the account(s) it was set on.
        owned = SandboxAccount.objects.filter(channel="pinterest", access_token=token).order_by("id")
        if owned.exists():
            return owned, None
    return None, _auth_failed()


def _ad_account_body(account: SandboxAccount) -> dict:
    """AdAccount."""
    details = (account.settings or {}).get("ad_account") or {}
    return {
        "id": account.key,
        "name": details.get("name") or f"Ad account {account.key}",
        "country": details.get("country") or "US",
        "currency": details.get("currency") or "USD",
        "owner": {"username": account.seller or "sandbox-seller"},
        "permissions": ["OWNER"],
    }


@require_http_methods(["GET"])
def pinterest_ad_accounts(request):
    """GET /v5/ad_accounts: {items: [AdAccount], bookmark}, page_size 1 to 250 (default 25)."""
    accounts, refusal = _visible_accounts(request)
    if refusal is not None:
        return refusal
    raw_size = request.GET.get("page_size", str(PAGE_SIZE_DEFAULT))
    if not raw_size.isdigit():
        return _pinterest_error(1, f"Parameter 'page_size' was not numeric (was {raw_size})", 400)
    page_size = int(raw_size)
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        return _pinterest_error(1, f"Parameter 'page_size' must be between 1 and {PAGE_SIZE_MAX}", 400)
    offset = 0
    if request.GET.get("bookmark"):
        try:
            offset = int(base64.urlsafe_b64decode(request.GET["bookmark"].encode()).decode())
        except (ValueError, UnicodeDecodeError):
            return _pinterest_error(1, "Invalid request parameter.", 400)
    listed = list(accounts[offset : offset + page_size + 1])
    more = len(listed) > page_size
    bookmark = base64.urlsafe_b64encode(str(offset + page_size).encode()).decode() if more else None
    return JsonResponse({"items": [_ad_account_body(a) for a in listed[:page_size]], "bookmark": bookmark})


@require_http_methods(["GET"])
def pinterest_ad_account(request, ad_account_id: str):
    """GET /v5/ad_accounts/{ad_account_id}: the AdAccount, if the token can see it."""
    if not AD_ACCOUNT_ID.match(ad_account_id):
        return _pinterest_error(1, f"'ad_account_id' value '{ad_account_id}' must match the pattern: ^\\d+$", 400)
    accounts, refusal = _visible_accounts(request)
    if refusal is not None:
        return refusal
    account = SandboxAccount.objects.filter(channel="pinterest", key=ad_account_id).first()
    if account is None:
        # Pinterest.Lib.Error's example.
        return _pinterest_error(2, "AdAccount not found.", 404)
    if not accounts.filter(pk=account.pk).exists():
        # The refusal the ad account endpoints document for a resource the user may not use.
        return _pinterest_error(29, "You are not permitted to access that resource.", 403)
    return JsonResponse(_ad_account_body(account))


def throttled(*, retry_after: int, regain_minutes: int, key: str) -> JsonResponse:
    """Pinterest's throttle: HTTP 429 with code 8."""
    response = JsonResponse({"code": 8, "message": "Too many requests. Retry later."}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# Base URL …/sandbox/pinterest stands for https://api.pinterest.com.
urlpatterns = [
    path("oauth/", pinterest_oauth),  # https://www.pinterest.com/oauth/
    path("v5/oauth/token", pinterest_oauth_token),
    path("v5/ad_accounts", pinterest_ad_accounts),
    path("v5/ad_accounts/<str:ad_account_id>", pinterest_ad_account),
    path("v5/catalogs/items/batch", pinterest_items_batch),
    path("v5/catalogs/items/batch/<str:batch_id>", pinterest_batch_status),
]
