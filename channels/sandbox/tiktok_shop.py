"""TikTok Shop's Open API (the version in settings.TIKTOK_SHOP_API_VERSION, 202309),
simulated strictly: signed requests, reference data (categories, brands, warehouses,
shipping providers), image upload, products with SKUs, orders with one line item per unit,
returns, packages and cancellations; and the authorisation: the consent page, the token
endpoints, Get Authorized Shops and the seller webhooks (6 deauthorisation, 7 expiry).

Two kinds of simulated shop: one keyed by its own app key (secret and token set through the
control endpoint), and the shops of a seller who authorised the deployment's app (keyed by
their cipher; calls are signed with the platform app and carry a token of the seller's grant).

It answers in TikTok's envelope (`code`, `message`, `request_id`, `data`) with TikTok's error
codes and refuses what TikTok refuses; docs/channels.md ("TikTok Shop (Open API 202309)")
lists each rule and its source. Where the sources do not settle a rule, the strictest
reading is applied and the code says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import struct
import time
import uuid
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

import httpx
from django.conf import settings as django_settings
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.adapters.tiktok_shop import CANCEL_REASONS, SHOP_CIPHER_REFUSED
from channels.adapters.tiktok_shop import sign as tiktok_sign
from channels.adapters.tiktok_shop import webhook_signature as tiktok_webhook_signature
from channels.sandbox import grants
from channels.sandbox.common import json_body
from channels.sandbox.faults import inject, rejected
from channels.sandbox.models import SandboxAccount, SandboxGrant, SandboxItem, SandboxOrder

# The credential the simulated account is known by (SandboxAccount.key).
ACCOUNT_KEY = "app_key"

TIKTOK_PREFIX = "/sandbox/tiktok"
# Timestamps must lie within 5 minutes before to 30 seconds after the current time.
TIMESTAMP_PAST = 300
TIMESTAMP_FUTURE = 30

# Common error codes.
SIGN_INVALID = 106001
CREDENTIALS_INVALID = 36009004
SHOP_CIPHER_MISSING = 106013
TOKEN_EXPIRED = 105002
TOKEN_OR_SHOP_MISMATCH = 101000
INVALID_PATH = 36009009
WRONG_CONTENT_TYPE = 36009023
FILE_TOO_LARGE = 36009021
# Product API codes.
INVALID_PARAMS = 12052910
PRODUCT_NOT_FOUND = 12052032
CATEGORY_FORMAT = 12052002
CATEGORY_NOT_FOUND = 12052023
CATEGORY_NOT_LEAF = 12052024
BRAND_NOT_FOUND = 12052026
MAIN_IMAGE_REQUIRED = 12052028
MAIN_IMAGE_URI_ILLEGAL = 12052300
MAIN_IMAGES_TOO_MANY = 12052306
PACKAGE_WEIGHT_INVALID = 12019011
PACKAGE_WEIGHT_ZERO = 12052181
IMPERIAL_UNIT_NOT_US = 12019061
TOO_MANY_SKUS = 12052050
TITLE_EMPTY = 12052261
TITLE_TOO_LONG = 12052051
DESCRIPTION_REQUIRED = 12052015
DESCRIPTION_TOO_LONG = 12052013
SELLER_SKU_TOO_LONG = 12052054
STOCK_OUT_OF_RANGE = 12052055
PRICE_INVALID = 12052073
CURRENCY_NOT_AVAILABLE = 12052084
SKU_WAREHOUSE_REQUIRED = 12019022
WAREHOUSE_NOT_FOUND = 12052097
NOT_DELIVERY_WAREHOUSE = 12052532
WAREHOUSE_CHANGE_REFUSED = 12052533
IDENTIFIER_DIGITS = 12052591
IDENTIFIER_DUPLICATE = 12052592
IDENTIFIER_TYPE_REQUIRED = 12052600
ATTRIBUTE_NAME_TOO_LONG = 12052242
ATTRIBUTE_VALUE_TOO_LONG = 12052249
TOO_MANY_ATTRIBUTES = 12052525
DUPLICATE_SALES_ATTRIBUTES = 12052560
EXTERNAL_ID_DUPLICATED = 12052996
SKU_NOT_OF_PRODUCT = 12052557
SKU_ID_DUPLICATE = 12052553
SKU_ID_REQUIRED = 12052036
SKU_ID_NOT_FOUND = 12052556
SKU_LIST_EMPTY = 12052902
NO_MATCHING_CATEGORY = 12019064
# Image upload.
UPLOAD_INVALID_PARAM = 11050001
UPLOAD_INVALID_FILE = 12038002
UPLOAD_DIMENSIONS = 12038014
UPLOAD_FORMAT = 12038015
# Fulfilment.
FULFILLMENT_INVALID_PARAMS = 21001001
PROVIDER_OR_TRACKING_INVALID = 21011022
TRACKING_DUPLICATE = 21011025
NOT_AWAITING_SHIPMENT = 21042057
# Return and refund.
RR_INVALID_PARAM = 25001001
UNKNOWN_REASON = 25001014
REASON_NOT_FOR_STATUS = 25001021
ALREADY_SHIPPED = 25001045
NO_LINE_ITEM_CANCEL = 25005010
# Order API codes: not documented per endpoint in the sources read, strictest generic code.
ORDER_INVALID_PARAMS = 36009004

CREATE_FIELDS = {
    "save_mode", "description", "category_id", "brand_id", "main_images", "skus", "title",
    "is_cod_allowed", "certifications", "package_dimensions", "product_attributes", "package_weight",
    "video", "external_product_id", "delivery_option_ids", "size_chart", "primary_combined_product_id",
    "is_not_for_sale", "category_version", "manufacturer_ids", "responsible_person_ids",
    "listing_platforms", "shipping_insurance_requirement", "minimum_order_quantity", "is_pre_owned",
    "idempotency_key",
}  # fmt: skip
SKU_FIELDS = {
    "id", "sales_attributes", "inventory", "seller_sku", "price", "external_sku_id", "identifier_code",
    "combined_skus", "sku_unit_count", "external_urls", "extra_identifier_codes", "pre_sale", "list_price",
    "external_list_prices",
}  # fmt: skip
IDENTIFIER_DIGITS_BY_TYPE = {"GTIN": (14,), "EAN": (8, 13, 14), "UPC": (12,), "ISBN": (13,)}
REGION_CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "ID": "IDR",
    "TH": "THB",
    "MY": "MYR",
    "PH": "PHP",
    "VN": "VND",
    "SG": "SGD",
}
IMAGE_USE_CASES = {"MAIN_IMAGE", "ATTRIBUTE_IMAGE", "DESCRIPTION_IMAGE", "CERTIFICATION_IMAGE", "SIZE_CHART_IMAGE"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# The simulated shop's setup; SandboxAccount.settings overrides any key.
DEFAULT_SETTINGS = {
    "region": "US",
    "warehouses": [
        {
            "id": "7000714532876273410",
            "name": "Main warehouse",
            "effect_status": "ENABLED",
            "type": "SALES_WAREHOUSE",
            "sub_type": "DOMESTIC_WAREHOUSE",
            "is_default": True,
        },
        {
            "id": "7000714532876273411",
            "name": "Returns",
            "effect_status": "ENABLED",
            "type": "RETURN_WAREHOUSE",
            "sub_type": "DOMESTIC_WAREHOUSE",
            "is_default": False,
        },
    ],
    "categories": [
        {"id": "600001", "parent_id": "0", "local_name": "Womenswear & Underwear", "is_leaf": False},
        {"id": "601152", "parent_id": "600001", "local_name": "Women's Tops", "is_leaf": False},
        {"id": "601226", "parent_id": "601152", "local_name": "T-shirts", "is_leaf": True},
        {"id": "601302", "parent_id": "601152", "local_name": "Shirts & Blouses", "is_leaf": True},
        {"id": "601303", "parent_id": "601152", "local_name": "Dresses", "is_leaf": True},
        {"id": "601213", "parent_id": "601152", "local_name": "Hoodies & Sweatshirts", "is_leaf": True},
        {"id": "601450", "parent_id": "600001", "local_name": "Women's Bottoms", "is_leaf": False},
        {"id": "601451", "parent_id": "601450", "local_name": "Jeans", "is_leaf": True},
        {"id": "601452", "parent_id": "601450", "local_name": "Chinos & Trousers", "is_leaf": True},
        {"id": "601460", "parent_id": "600001", "local_name": "Jackets & Coats", "is_leaf": True},
        {"id": "605196", "parent_id": "0", "local_name": "Fashion Accessories", "is_leaf": False},
        {"id": "605197", "parent_id": "605196", "local_name": "Caps & Hats", "is_leaf": True},
        {"id": "605198", "parent_id": "605196", "local_name": "Socks", "is_leaf": True},
        {"id": "601352", "parent_id": "0", "local_name": "Shoes", "is_leaf": False},
        {"id": "601353", "parent_id": "601352", "local_name": "Sneakers", "is_leaf": True},
        {"id": "600024", "parent_id": "0", "local_name": "Home Supplies", "is_leaf": False},
        {"id": "600942", "parent_id": "600024", "local_name": "Mugs & Cups", "is_leaf": True},
    ],
    "brands": [
        {"id": "7082427311584347905", "name": "Alice", "authorized_status": "AUTHORIZED", "brand_status": "AVAILABLE"},
        {
            "id": "7082427311584347906",
            "name": "Bob & Co",
            "authorized_status": "UNAUTHORIZED",
            "brand_status": "AVAILABLE",
        },
    ],
    "default_delivery_option_id": "6955034615128000261",
    "delivery_options": {
        "6955034615128000261": [
            {"id": "6617675021119438849", "name": "USPS"},
            {"id": "6617675021119438850", "name": "UPS"},
            {"id": "6617675021119438851", "name": "FedEx"},
        ]
    },
}


def shop_settings(account: SandboxAccount) -> dict:
    return {**DEFAULT_SETTINGS, **(account.settings or {})}


def _tiktok(code: int, message: str, data=None, status: int = 200):
    return JsonResponse({"code": code, "message": message, "request_id": uuid.uuid4().hex, "data": data}, status=status)


def _ok(data=None):
    return _tiktok(0, "Success", data if data is not None else {})


def _path_version_ok(request) -> bool:
    match = re.match(r"^/[a-z_]+/(\d{6})/", request.path.removeprefix(TIKTOK_PREFIX))
    return bool(match) and match.group(1) == str(django_settings.TIKTOK_SHOP_API_VERSION)


def _caller(request):
    """Check the call as TikTok does (path version, app key, timestamp, sign, access token);
    returns (account, grant, error_response).

    Two kinds of caller: an app registered per account (SandboxAccount keyed by its app key,
    with its own secret and token), or the deployment's platform app (grants.app_secret), whose
    access token must come from a live grant of a seller."""
    if not _path_version_ok(request):
        return (
            None,
            None,
            _tiktok(INVALID_PATH, "Invalid path. The specified path does not match any available endpoint."),
        )
    params = {k: v for k, v in request.GET.items()}
    app_key = params.get("app_key", "")
    account = SandboxAccount.objects.select_for_update().filter(channel="tiktok_shop", key=app_key).first()
    secret = account.secret if account is not None else grants.app_secret("tiktok_shop", app_key)
    if not secret:
        return None, None, _tiktok(CREDENTIALS_INVALID, "Invalid credentials. Invalid `app_key` query parameter.")
    timestamp = params.get("timestamp", "")
    if not timestamp.isdigit():
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID,
                "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0.",
            ),
        )
    now = time.time()
    if int(timestamp) < now - TIMESTAMP_PAST:
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID,
                "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than 5 minutes "
                "before the current time.",
            ),
        )
    if int(timestamp) > now + TIMESTAMP_FUTURE:
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID,
                "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current time by "
                "more than 30 seconds.",
            ),
        )
    if not params.get("sign"):
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID,
                "Missing credentials. The request does not include a required signature in the query.",
            ),
        )
    path = request.path.removeprefix(TIKTOK_PREFIX)
    multipart = request.content_type == "multipart/form-data"
    expected = tiktok_sign(
        secret=secret, path=path, params=params, body=b"" if multipart else request.body, multipart=multipart
    )
    if not secrets.compare_digest(expected.encode(), params.get("sign", "").encode()):
        return None, None, _tiktok(SIGN_INVALID, "Invalid credentials. The `sign` query parameter is invalid.")
    token = request.headers.get("x-tts-access-token", "")
    grant = None
    if account is not None:
        state = grants.token_state(account, token)
    else:
        grant = SandboxGrant.objects.filter(channel="tiktok_shop", client_id=app_key, access_token=token).first()
        state = _grant_state(grant) if token else "invalid"
    if state == "expired":
        return (
            None,
            None,
            _tiktok(
                TOKEN_EXPIRED,
                "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.",
                status=401,
            ),
        )
    if state != "ok":
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID, "Invalid credentials. The `x-tts-access-token` header is invalid.", status=401
            ),
        )
    if SHOP_CIPHER_REFUSED.match(path) and "shop_cipher" in params:
        return (
            None,
            None,
            _tiktok(
                CREDENTIALS_INVALID,
                "Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
            ),
        )
    return account, grant, None


def _grant_state(grant) -> str:
    if grant is None or grant.revoked_at is not None:
        return "invalid"
    if grant.access_expires_at is not None and grant.access_expires_at <= timezone.now():
        return "expired"
    return "ok"


def _tiktok_account(request):
    """The shop a checked call is for (its shop_cipher); returns (account, error_response)."""
    account, grant, error = _caller(request)
    if error is not None:
        return None, error
    path = request.path.removeprefix(TIKTOK_PREFIX)
    cipher = request.GET.get("shop_cipher", "")
    if grant is not None:
        if SHOP_CIPHER_REFUSED.match(path):
            # A call that names no shop: the grant's seller's first shop stands for it.
            account = grants.seller_accounts("tiktok_shop", grant.seller).first()
        elif not cipher:
            return None, _missing_cipher()
        else:
            account = (
                grants.seller_accounts("tiktok_shop", grant.seller)
                .select_for_update()
                .filter(shop_cipher=cipher)
                .first()
            )
        if account is None:
            # The token is not associated with that shop (common errors, 101000).
            return None, _tiktok(
                TOKEN_OR_SHOP_MISMATCH,
                "Invalid query or header. The `category_asset_cipher` query parameter or `x-tts-access-token` "
                "header is invalid.",
                status=401,
            )
    elif not SHOP_CIPHER_REFUSED.match(path) and account.shop_cipher:
        if not cipher:
            return None, _missing_cipher()
        if cipher != account.shop_cipher:
            return None, _tiktok(
                CREDENTIALS_INVALID, "Invalid identifier. The `shop_cipher` query parameter is invalid."
            )
    fault = inject(account, request)
    if fault is not None:
        return None, fault
    return account, None


def _missing_cipher():
    return _tiktok(
        SHOP_CIPHER_MISSING,
        "Missing identifier. The `shop_cipher` query parameter is required to identify the target shop.",
    )


def _guarded(methods):
    """A view that checks the call first and hands (request, account, body, **kwargs) on."""

    def wrap(view):
        @csrf_exempt
        @require_http_methods(methods)
        def run(request, version=None, **kwargs):
            account, error = _tiktok_account(request)
            if error is not None:
                return error
            body = None
            if request.method in ("POST", "PUT") and request.content_type != "multipart/form-data":
                body = json_body(request)
                if body is None or not isinstance(body, dict):
                    return _tiktok(INVALID_PARAMS, "Invalid input parameters. The body is not a JSON object.")
            return view(request, account, body, **kwargs)

        return run

    return wrap


# --- Reference data ----------------------------------------------------------------------------


@_guarded(["GET"])
def categories(request, account, body):
    return _ok({"categories": shop_settings(account)["categories"]})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if len(w) >= 3}


def _shares_word(title_words: set[str], name: str) -> bool:
    """A word of the title and of the category name, one the other's stem ("dress", "dresses")."""
    return any(a.startswith(b) or b.startswith(a) for a in title_words for b in _words(name))


@_guarded(["POST"])
def categories_recommend(request, account, body):
    title = (body.get("product_title") or "").strip()
    if not title:
        return _tiktok(INVALID_PARAMS, "Invalid input parameters. product_title is required.")
    words = _words(title)
    leaves = [c for c in shop_settings(account)["categories"] if c.get("is_leaf")]
    # TikTok's recommendation model, simulated: the first leaf sharing a word with the title.
    match = next((c for c in leaves if _shares_word(words, c["local_name"])), None)
    if match is None:
        return _tiktok(
            NO_MATCHING_CATEGORY,
            "No matching categories. Provide the full name of your product, edit its product properties, "
            "and try again.",
        )
    category = {
        "id": match["id"],
        "name": match["local_name"],
        "level": 3,
        "is_leaf": True,
        "permission_statuses": ["AVAILABLE"],
    }
    return _ok({"leaf_category_id": match["id"], "categories": [category]})


@_guarded(["GET"])
def brands(request, account, body):
    size = request.GET.get("page_size", "")
    if not size.isdigit() or not 1 <= int(size) <= 100:
        return _tiktok(INVALID_PARAMS, "Invalid input parameters. page_size must be between 1 and 100.")
    prefix = request.GET.get("brand_name", "").lower()
    found = [b for b in shop_settings(account)["brands"] if b["name"].lower().startswith(prefix)]
    offset = int(request.GET["page_token"]) if request.GET.get("page_token", "").isdigit() else 0
    page = found[offset : offset + int(size)]
    more = offset + int(size) < len(found)
    return _ok({"brands": page, "total_count": len(found), "next_page_token": str(offset + int(size)) if more else ""})


@_guarded(["GET"])
def warehouses(request, account, body):
    return _ok({"warehouses": shop_settings(account)["warehouses"]})


@_guarded(["GET"])
def shipping_providers(request, account, body, delivery_option_id: str):
    providers = shop_settings(account)["delivery_options"].get(delivery_option_id)
    if providers is None:
        # The sources name no error code for an unknown delivery option; the generic one.
        return _tiktok(UPLOAD_INVALID_PARAM, "invalid param: unknown delivery_option_id")
    return _ok({"shipping_providers": providers})


# --- Images --------------------------------------------------------------------------------------


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a PNG or JPEG, None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return "JPEG", width, height
            index += 2 + length
    return None


def _issue_uri(account: SandboxAccount, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:32]
    mac = hmac.new(f"{account.key}:{account.secret}".encode(), digest.encode(), hashlib.sha256).hexdigest()[:16]
    return f"tos-sandbox-i-{mac}/{digest}"


def _issued(account: SandboxAccount, uri: str) -> bool:
    """Only URIs this shop's uploads answered are images TikTok hosts."""
    match = re.fullmatch(r"tos-sandbox-i-([0-9a-f]{16})/([0-9a-f]{32})", uri or "")
    if not match:
        return False
    mac = hmac.new(f"{account.key}:{account.secret}".encode(), match.group(2).encode(), hashlib.sha256).hexdigest()
    return secrets.compare_digest(mac[:16], match.group(1))


@_guarded(["POST"])
def images_upload(request, account, body):
    if request.content_type != "multipart/form-data":
        return _tiktok(
            WRONG_CONTENT_TYPE,
            "Invalid request format. The value of the `content-type` header must be `multipart/form-data`.",
        )
    upload = request.FILES.get("data")
    if upload is None:
        return _tiktok(UPLOAD_INVALID_FILE, "Invalid upload file. Please ensure you are passing the correct file data.")
    if upload.size > MAX_UPLOAD_BYTES:
        return _tiktok(FILE_TOO_LARGE, "Invalid file size. The uploaded file size exceeds the maximum limit.")
    use_case = request.POST.get("use_case") or "MAIN_IMAGE"
    if use_case not in IMAGE_USE_CASES:
        return _tiktok(UPLOAD_INVALID_PARAM, "invalid param: use_case")
    data = upload.read()
    # JPG, JPEG and PNG are the formats every source lists; others are refused (strictest).
    size = _image_size(data)
    if size is None:
        return _tiktok(
            UPLOAD_FORMAT,
            "Failed to process the image. The format or content is not supported. Supported formats: JPG, JPEG, PNG",
        )
    fmt, width, height = size
    low, high = (300, 4000) if use_case == "MAIN_IMAGE" else (100, 20000)
    if not (low <= width <= high and low <= height <= high):
        return _tiktok(
            UPLOAD_DIMENSIONS,
            f"The image dimensions exceed the allowed limits. Allowed dimensions (width x height in pixels): "
            f"{low} x {low} to {high} x {high}",
        )
    uri = _issue_uri(account, data)
    url = f"https://p16-oec-va.ibyteimg.com/{uri}~tplv-origin-{fmt.lower()}.{fmt.lower()}"
    return _ok({"uri": uri, "url": url, "width": width, "height": height, "use_case": use_case})


# --- Products ---------------------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _price_ok(amount) -> bool:
    # A positive decimal string; more than two decimals is refused (not settled: strictest).
    number = _decimal(amount)
    return number is not None and number > 0 and bool(re.fullmatch(r"\d+(\.\d{1,2})?", str(amount)))


def _new_id() -> str:
    return str(1729000000000000000 + secrets.randbelow(10**17))


def _product_items(account, product_id: str) -> list[SandboxItem]:
    return list(account.items.select_for_update().filter(product_id=product_id).order_by("id"))


def _product_view(items: list[SandboxItem]) -> dict:
    """Get Product's answer for the product these SKU rows make up."""
    product = dict(items[0].data.get("product") or {})
    product_id = items[0].product_id
    shown = {
        "id": product_id,
        "status": "ACTIVATE" if any(i.active for i in items) else "SELLER_DEACTIVATED",
        **{k: v for k, v in product.items() if k not in ("category_id", "brand_id", "main_images")},
        "category_chains": product.get("category_chains") or [],
        "main_images": [
            {"uri": m["uri"], "urls": [], "thumb_urls": [], "width": 600, "height": 600}
            for m in product.get("main_images") or []
        ],
        "skus": [],
    }
    if product.get("brand"):
        shown["brand"] = product["brand"]
    for item in items:
        sku = dict((item.data.get("skus") or [{}])[0])
        price = sku.get("price") or {}
        sku["id"] = item.sku_id
        sku["price"] = {
            "tax_exclusive_price": price.get("amount"),
            "sale_price": price.get("amount"),
            "currency": price.get("currency"),
        }
        shown["skus"].append(sku)
    return shown


def _category_chain(account, category_id: str) -> list[dict]:
    by_id = {c["id"]: c for c in shop_settings(account)["categories"]}
    chain, current = [], by_id.get(category_id)
    while current is not None:
        chain.insert(0, {k: current[k] for k in ("id", "parent_id", "local_name", "is_leaf")})
        current = by_id.get(current.get("parent_id"))
    return chain


def _product_problem(account, body: dict, product_id: str | None) -> tuple[int, str] | None:
    """The first thing TikTok refuses in a Create/Edit Product body, as (code, message)."""
    conf = shop_settings(account)
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        # Whether TikTok ignores or refuses fields it does not define is not settled by the
        # sources; refused here (strictest), e.g. `brand_name`.
        return INVALID_PARAMS, f"Invalid input parameters. Unknown field(s): {', '.join(unknown)}."
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return TITLE_EMPTY, "product name is empty"
    region = conf["region"]
    if len(title) > 255 or (region not in ("US", "GB") and len(title) < 25):
        return TITLE_TOO_LONG, "The product name exceed max limit characters"
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        return DESCRIPTION_REQUIRED, "The product description is required"
    if len(description) > 10000:
        return DESCRIPTION_TOO_LONG, "The product description cannot exceed maximum characters"
    category_id = body.get("category_id")
    if not isinstance(category_id, str) or not category_id.isdigit():
        return CATEGORY_FORMAT, "Incorrect category format"
    category = next((c for c in conf["categories"] if c["id"] == category_id), None)
    if category is None:
        return CATEGORY_NOT_FOUND, "Category does not exist"
    if not category.get("is_leaf"):
        return CATEGORY_NOT_LEAF, "Category is not final category"
    if body.get("brand_id") not in (None, "") and not any(b["id"] == body["brand_id"] for b in conf["brands"]):
        return BRAND_NOT_FOUND, "Brand does not exist"
    images = body.get("main_images")
    if not isinstance(images, list) or not images:
        return MAIN_IMAGE_REQUIRED, "Main product image is required"
    if len(images) > 9:
        return MAIN_IMAGES_TOO_MANY, "main product images count exceed limit"
    for image in images:
        if not isinstance(image, dict) or not _issued(account, image.get("uri", "")):
            return MAIN_IMAGE_URI_ILLEGAL, "product main image uri illegal"
    weight = body.get("package_weight")
    if not isinstance(weight, dict) or weight.get("unit") not in ("KILOGRAM", "POUND"):
        return PACKAGE_WEIGHT_INVALID, "product package weight is invalid"
    value = _decimal(weight.get("value"))
    if value is None:
        return PACKAGE_WEIGHT_INVALID, "product package weight is invalid"
    if value <= 0:
        return PACKAGE_WEIGHT_ZERO, "The package weight of the product can not be zero."
    if weight["unit"] == "POUND" and region != "US":
        return (
            IMPERIAL_UNIT_NOT_US,
            "Product weight or dimensions unit does not support the imperial units on non-US local products.",
        )
    external = body.get("external_product_id")
    if external is not None and (not isinstance(external, str) or len(external) > 999):
        return INVALID_PARAMS, "Invalid input parameters. external_product_id is at most 999 characters."
    if external:
        # A second product with the same external id is refused ("external_id duplicated");
        # the sources do not say whether that is the product's or a SKU's external id, so
        # the product's is held to it (strictest).
        twin = account.items.filter(active=True, data__product__external_product_id=external)
        if product_id:
            twin = twin.exclude(product_id=product_id)
        if twin.exists():
            return EXTERNAL_ID_DUPLICATED, "external_id duplicated"
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus:
        return INVALID_PARAMS, "Invalid input parameters. skus is required."
    if len(skus) > 100:
        return TOO_MANY_SKUS, "A single product cannot have more than 100 different SKUs"
    return _skus_problem(account, skus, product_id)


def _skus_problem(account, skus: list, product_id: str | None) -> tuple[int, str] | None:
    conf = shop_settings(account)
    warehouses = {w["id"]: w for w in conf["warehouses"]}
    currency = REGION_CURRENCY.get(conf["region"], "USD")
    existing = {i.sku_id: i for i in account.items.filter(product_id=product_id)} if product_id else {}
    codes, combos, ids, seller_skus = set(), set(), set(), set()
    for sku in skus:
        if not isinstance(sku, dict):
            return INVALID_PARAMS, "Invalid input parameters. Each SKU is an object."
        unknown = sorted(set(sku) - SKU_FIELDS)
        if unknown:
            return INVALID_PARAMS, f"Invalid input parameters. Unknown SKU field(s): {', '.join(unknown)}."
        if sku.get("id"):
            if not product_id or sku["id"] not in existing:
                return SKU_NOT_OF_PRODUCT, "The SKU ID does not belong to the product."
            if sku["id"] in ids:
                return SKU_ID_DUPLICATE, "Sku id duplicate"
            ids.add(sku["id"])
        if len(sku.get("seller_sku") or "") > 50:
            return SELLER_SKU_TOO_LONG, "The seller SKU text length cannot exceed max limit characters"
        if sku.get("seller_sku") and sku["seller_sku"] in seller_skus:
            # Two SKUs of one product with one seller SKU: not settled by the sources, refused.
            return INVALID_PARAMS, f"Invalid input parameters. seller_sku {sku['seller_sku']} appears twice."
        seller_skus.add(sku.get("seller_sku"))
        price = sku.get("price") or {}
        if not _price_ok(price.get("amount")):
            return PRICE_INVALID, "The product price is invalid"
        if price.get("currency") != currency:
            return CURRENCY_NOT_AVAILABLE, "The provided currency is not available for this shop/region."
        inventory = sku.get("inventory")
        if not isinstance(inventory, list) or not inventory:
            return SKU_WAREHOUSE_REQUIRED, "SKU must contain a valid warehouse."
        for entry in inventory:
            warehouse_id = (entry or {}).get("warehouse_id")
            if not warehouse_id:
                return SKU_WAREHOUSE_REQUIRED, "SKU must contain a valid warehouse."
            if warehouse_id not in warehouses:
                return WAREHOUSE_NOT_FOUND, "The warehouse does not exist"
            if warehouses[warehouse_id].get("type") != "SALES_WAREHOUSE":
                return NOT_DELIVERY_WAREHOUSE, "the warehouse not delivery warehouse"
            quantity = entry.get("quantity", 0)
            if not isinstance(quantity, int) or not 0 <= quantity <= 999999:
                return STOCK_OUT_OF_RANGE, "The SKU inventory quantity for the warehouse must be within allowed limits."
        code = sku.get("identifier_code")
        if code:
            kind = code.get("type")
            if kind not in IDENTIFIER_DIGITS_BY_TYPE:
                return IDENTIFIER_TYPE_REQUIRED, "The identifier code type must be selected"
            value = str(code.get("code") or "")
            digits = value[:-1] if kind == "ISBN" and value.endswith("X") else value
            if not digits.isdigit() or len(value) not in IDENTIFIER_DIGITS_BY_TYPE[kind]:
                return IDENTIFIER_DIGITS, "Invalid number of digits of identifier code"
            if value in codes:
                return IDENTIFIER_DUPLICATE, "Identifier code already entered, cannot enter the same code twice"
            codes.add(value)
        attributes = sku.get("sales_attributes") or []
        if len(attributes) > 3:
            return TOO_MANY_ATTRIBUTES, "The attribute max num cannot exceed 3."
        for attribute in attributes:
            if not attribute.get("id") and not 1 <= len(attribute.get("name") or "") <= 20:
                return ATTRIBUTE_NAME_TOO_LONG, "The attribute name characters cannot exceed max_limit"
            if len(attribute.get("value_name") or "") > 50:
                return ATTRIBUTE_VALUE_TOO_LONG, "The sales_attributes value name characters cannot exceed 50."
        combo = tuple(
            sorted((a.get("id") or a.get("name"), a.get("value_id") or a.get("value_name")) for a in attributes)
        )
        if combo in combos:
            return DUPLICATE_SALES_ATTRIBUTES, "The SKU contains duplicate sales attribute."
        combos.add(combo)
    return None


def _save_product(account, body: dict, product_id: str | None) -> dict:
    """Store the product as TikTok would: Create makes a product and SKUs; Edit replaces the
    SKU list (a SKU of the product whose id is left out is deleted)."""
    conf = shop_settings(account)
    product_id = product_id or _new_id()
    product = {k: v for k, v in body.items() if k != "skus"}
    product["category_chains"] = _category_chain(account, body["category_id"])
    brand = next((b for b in conf["brands"] if b["id"] == body.get("brand_id")), None)
    if brand:
        product["brand"] = {"id": brand["id"], "name": brand["name"]}
    rows = {i.sku_id: i for i in account.items.select_for_update().filter(product_id=product_id)}
    kept, answered = set(), []
    for sku in body["skus"]:
        sku_id = sku.get("id") or _new_id()
        stored = {k: v for k, v in sku.items() if k != "id"}
        attributes = []
        for attribute in stored.get("sales_attributes") or []:
            attribute = dict(attribute)
            attribute.setdefault(
                "id", str(int(hashlib.sha256((attribute.get("name") or "").encode()).hexdigest()[:12], 16))
            )
            attribute.setdefault(
                "value_id", str(int(hashlib.sha256((attribute.get("value_name") or "").encode()).hexdigest()[:12], 16))
            )
            attributes.append(attribute)
        if attributes:
            stored["sales_attributes"] = attributes
        data = {"product": product, "skus": [stored]}
        row = rows.get(sku_id)
        seller_sku = sku.get("seller_sku") or sku_id
        if row is None:
            # One row per seller SKU; a seller SKU of a deactivated product moves to this one.
            row = account.items.select_for_update().filter(item_id=seller_sku).first() or SandboxItem(
                account=account, item_id=seller_sku
            )
            # A row reused for a new SKU of this very product is that SKU now, not a deletion.
            rows = {k: v for k, v in rows.items() if v.pk is None or v.pk != row.pk}
        row.item_id, row.product_id, row.sku_id, row.data, row.active = seller_sku, product_id, sku_id, data, True
        row.updates, row.updated_at = row.updates + 1, timezone.now()
        row.save()
        kept.add(sku_id)
        answered.append(
            {
                "id": sku_id,
                "seller_sku": sku.get("seller_sku", ""),
                "sales_attributes": [{"id": a["id"], "value_id": a["value_id"]} for a in attributes],
            }
        )
    for sku_id, row in rows.items():
        if sku_id not in kept:
            row.delete()  # left out of the edit: TikTok deletes the SKU
    return {"product_id": product_id, "skus": answered, "warnings": []}


def _seller_sku_taken(account, body: dict, product_id: str | None) -> tuple[int, str] | None:
    for sku in body.get("skus") or []:
        other = account.items.filter(item_id=sku.get("seller_sku") or "", active=True).exclude(
            product_id=product_id or ""
        )
        if sku.get("seller_sku") and other.exists():
            # The sandbox keeps one row per seller SKU, so an active product's seller SKU is
            # not reused by another (TikTok's own rule is not settled by the sources).
            return (
                INVALID_PARAMS,
                f"Invalid input parameters. seller_sku {sku['seller_sku']} is used by another product.",
            )
    return None


def _upsert(account, body: dict, product_id: str | None):
    problem = _product_problem(account, body, product_id) or _seller_sku_taken(account, body, product_id)
    if problem is None and any(rejected(account, s.get("seller_sku", "")) for s in body.get("skus") or []):
        problem = (MAIN_IMAGE_URI_ILLEGAL, "product main image uri illegal (sandbox rejection)")
    if problem is not None:
        return _tiktok(*problem)
    return _ok(_save_product(account, body, product_id))


@_guarded(["POST"])
def products_create(request, account, body):
    return _upsert(account, body, None)


@_guarded(["GET", "PUT"])
def product(request, account, body, product_id: str):
    items = _product_items(account, product_id)
    if not items:
        return _tiktok(PRODUCT_NOT_FOUND, "The product does not exist")
    if request.method == "GET":
        return _ok(_product_view(items))
    return _upsert(account, body, product_id)


@_guarded(["POST"])
def product_prices_update(request, account, body, product_id: str):
    items = {i.sku_id: i for i in _product_items(account, product_id)}
    if not items:
        return _tiktok(PRODUCT_NOT_FOUND, "The product does not exist")
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus:
        return _tiktok(
            SKU_LIST_EMPTY, "The SKU list is empty. Either omit the list entirely, or provide all required details."
        )
    currency = REGION_CURRENCY.get(shop_settings(account)["region"], "USD")
    seen = set()
    for sku in skus:
        if sku.get("id") not in items:
            return _tiktok(SKU_NOT_OF_PRODUCT, "The SKU ID does not belong to the product.")
        if sku["id"] in seen:
            return _tiktok(SKU_ID_DUPLICATE, "Sku id duplicate")
        seen.add(sku["id"])
        price = sku.get("price") or {}
        if not _price_ok(price.get("amount")):
            return _tiktok(PRICE_INVALID, "The product price is invalid")
        if price.get("currency") != currency:
            return _tiktok(CURRENCY_NOT_AVAILABLE, "The provided currency is not available for this shop/region.")
    for sku in skus:
        row = items[sku["id"]]
        stored = dict(row.data["skus"][0])
        stored["price"] = {"amount": sku["price"]["amount"], "currency": sku["price"]["currency"]}
        row.data = {**row.data, "skus": [stored]}
        row.updates, row.updated_at = row.updates + 1, timezone.now()
        row.save(update_fields=["data", "updates", "updated_at"])
    return _ok({})


@_guarded(["POST"])
def product_inventory_update(request, account, body, product_id: str):
    items = {i.sku_id: i for i in _product_items(account, product_id)}
    if not items:
        return _tiktok(PRODUCT_NOT_FOUND, "The product does not exist")
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus:
        return _tiktok(
            SKU_LIST_EMPTY, "The SKU list is empty. Either omit the list entirely, or provide all required details."
        )
    seen = set()
    for sku in skus:
        if not sku.get("id"):
            return _tiktok(SKU_ID_REQUIRED, "The SKU ID is necessary")
        if sku["id"] not in items:
            return _tiktok(SKU_ID_NOT_FOUND, "The SKU id not exist.")
        if sku["id"] in seen:
            return _tiktok(SKU_ID_DUPLICATE, "Sku id duplicate")
        seen.add(sku["id"])
        have = {w.get("warehouse_id") for w in items[sku["id"]].data["skus"][0].get("inventory") or []}
        for entry in sku.get("inventory") or [{}]:
            if entry.get("warehouse_id") and entry["warehouse_id"] not in have:
                return _tiktok(
                    WAREHOUSE_CHANGE_REFUSED,
                    "Removal, addition, and change of warehouses are not permitted. Please specify the original "
                    "warehouses for the SKUs.",
                )
            quantity = entry.get("quantity")
            if not isinstance(quantity, int) or not 0 <= quantity <= 999999:
                return _tiktok(
                    STOCK_OUT_OF_RANGE, "The SKU inventory quantity for the warehouse must be within allowed limits."
                )
    for sku in skus:
        row = items[sku["id"]]
        stored = dict(row.data["skus"][0])
        inventory = [dict(w) for w in stored.get("inventory") or []]
        for entry in sku["inventory"]:
            target = next((w for w in inventory if w["warehouse_id"] == entry.get("warehouse_id")), inventory[0])
            target["quantity"] = entry["quantity"]
        stored["inventory"] = inventory
        row.data = {**row.data, "skus": [stored]}
        row.updates, row.updated_at = row.updates + 1, timezone.now()
        row.save(update_fields=["data", "updates", "updated_at"])
    return _ok({})


@_guarded(["POST"])
def products_search(request, account, body):
    """Search Products: `page_size` (1 to 100) in the query; `seller_skus` and `status` filter."""
    size = request.GET.get("page_size", "")
    if not size.isdigit() or not 1 <= int(size) <= 100:
        return _tiktok(INVALID_PARAMS, "Invalid input parameters. page_size must be between 1 and 100.")
    rows = account.items.exclude(product_id="").order_by("id")
    if body.get("seller_skus"):
        wanted = set(account.items.filter(item_id__in=body["seller_skus"]).values_list("product_id", flat=True))
        rows = rows.filter(product_id__in=wanted)
    products: dict[str, list[SandboxItem]] = {}
    for row in rows:
        products.setdefault(row.product_id, []).append(row)
    shown = []
    for items in products.values():
        view = _product_view(items)
        if body.get("status") in (None, "", "ALL", view["status"]):
            keep = ("id", "seller_sku", "price", "inventory")
            skus = [{k: v for k, v in sku.items() if k in keep} for sku in view["skus"]]
            shown.append({"id": view["id"], "title": view.get("title", ""), "status": view["status"], "skus": skus})
    offset = int(request.GET["page_token"]) if request.GET.get("page_token", "").isdigit() else 0
    page = shown[offset : offset + int(size)]
    more = offset + int(size) < len(shown)
    return _ok(
        {"products": page, "total_count": len(shown), "next_page_token": str(offset + int(size)) if more else ""}
    )


@_guarded(["POST"])
def products_deactivate(request, account, body):
    return _set_active(account, body, False)


@_guarded(["POST"])
def products_activate(request, account, body):
    return _set_active(account, body, True)


def _set_active(account, body: dict, active: bool):
    ids = body.get("product_ids")
    if not isinstance(ids, list) or not ids:
        return _tiktok(INVALID_PARAMS, "Invalid input parameters. Refer to the API documentation for details.")
    found = set(account.items.filter(product_id__in=ids).values_list("product_id", flat=True))
    account.items.filter(product_id__in=found).update(active=active, updated_at=timezone.now())
    errors = [
        {"code": PRODUCT_NOT_FOUND, "message": "The product does not exist", "detail": {"product_id": i}}
        for i in ids
        if i not in found
    ]
    return _ok({"errors": errors})


# --- Orders ---------------------------------------------------------------------------------------------


def _details(account, order: SandboxOrder) -> dict:
    """The order as TikTok holds it: one line item per unit (each with its id), the delivery
    option, packages, returns. Made on first read from the lines the control endpoint placed."""
    details = dict(order.details or {})
    if "line_items" not in details:
        skus = {i.item_id: i for i in account.items.filter(item_id__in=[ln["item_id"] for ln in order.lines])}
        units = []
        for n, line in enumerate(order.lines):
            item = skus.get(line["item_id"])
            sku_id = (item.sku_id if item else "") or str(
                int(hashlib.sha256(f"{account.key}:{line['item_id']}".encode()).hexdigest()[:15], 16)
            )
            for unit in range(int(line["quantity"])):
                units.append(
                    {
                        "id": f"{order.order_id}{n:02d}{unit:03d}",
                        "sku_id": sku_id,
                        "product_id": line.get("product_id") or (item.product_id if item else ""),
                        "seller_sku": line["item_id"],
                        "product_name": ((item.data.get("product") or {}).get("title", "") if item else ""),
                        "sale_price": line["price"],
                        "original_price": line["price"],
                        "currency": order.currency,
                        "package_id": "",
                        "tracking_number": "",
                        "shipping_provider_id": "",
                        "cancel_reason": "",
                        "cancelled": False,
                    }
                )
        details["line_items"] = units
        details.setdefault("delivery_option_id", shop_settings(account)["default_delivery_option_id"])
        details.setdefault("returns", [])
        order.details = details
        order.save(update_fields=["details"])
    return details


UNIT_STATUS_AFTER_SHIPPING = {"PARTIALLY_SHIPPING": "IN_TRANSIT"}


def _order_view(account, order: SandboxOrder) -> dict:
    details = _details(account, order)
    line_items = []
    for unit in details["line_items"]:
        shown = {k: v for k, v in unit.items() if k != "cancelled"}
        if unit["cancelled"]:
            shown["display_status"] = "CANCELLED"
        elif unit["package_id"]:
            shown["display_status"] = UNIT_STATUS_AFTER_SHIPPING.get(order.status, order.status)
        else:
            shown["display_status"] = "AWAITING_SHIPMENT" if order.status == "PARTIALLY_SHIPPING" else order.status
        line_items.append(shown)
    return {
        "id": order.order_id,
        "status": order.status,
        "create_time": int(order.created_at.timestamp()),
        "update_time": int(order.updated_at.timestamp()),
        "delivery_option_id": details["delivery_option_id"],
        "line_items": line_items,
        "packages": [{"id": p} for p in sorted({u["package_id"] for u in details["line_items"] if u["package_id"]})],
        "payment": {"total_amount": order.total, "sub_total": order.total, "currency": order.currency},
        "cancel_reason": details.get("cancel_reason", ""),
    }


@_guarded(["POST"])
def orders_search(request, account, body):
    page_size = request.GET.get("page_size", "")
    if not page_size.isdigit() or not 1 <= int(page_size) <= 100:
        return _tiktok(ORDER_INVALID_PARAMS, "page_size must be between 1 and 100")
    orders = account.orders.order_by("created_at", "id")
    if body.get("update_time_ge"):
        orders = orders.filter(updated_at__gte=dt.datetime.fromtimestamp(int(body["update_time_ge"]), tz=dt.UTC))
    offset = int(request.GET["page_token"]) if request.GET.get("page_token", "").isdigit() else 0
    size = int(page_size)
    page = list(orders[offset : offset + size + 1])
    data = {
        "orders": [_order_view(account, o) for o in page[:size]],
        "next_page_token": str(offset + size) if len(page) > size else "",
        "total_count": orders.count(),
    }
    return _ok(data)


@_guarded(["GET"])
def orders_detail(request, account, body):
    ids = [i for i in request.GET.get("ids", "").split(",") if i]
    if not ids or len(ids) > 50:
        return _tiktok(ORDER_INVALID_PARAMS, "ids: between 1 and 50 order ids")
    orders = account.orders.filter(order_id__in=ids).order_by("id")
    return _ok({"orders": [_order_view(account, o) for o in orders]})


@_guarded(["POST"])
def returns_search(request, account, body):
    ids = body.get("order_ids") or []
    found = []
    for order in account.orders.filter(order_id__in=ids).order_by("id"):
        found += [{**r, "order_id": order.order_id} for r in _details(account, order).get("returns") or []]
    return _ok({"return_orders": found, "total_count": len(found), "next_page_token": ""})


def _order_for(account, order_id: str):
    return account.orders.select_for_update().filter(order_id=order_id).first()


@_guarded(["POST"])
def ship_packages(request, account, body, order_id: str):
    """Mark Package As Shipped: the line items shipped (their ids), the tracking number and
    the shipping provider (one of the order's delivery option's providers)."""
    order = _order_for(account, order_id)
    if order is None:
        return _tiktok(FULFILLMENT_INVALID_PARAMS, "Invalid parameters. The order does not exist.")
    if not body.get("tracking_number") or not body.get("shipping_provider_id"):
        return _tiktok(
            FULFILLMENT_INVALID_PARAMS, "Invalid parameters. tracking_number and shipping_provider_id are required."
        )
    if order.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        return _tiktok(NOT_AWAITING_SHIPMENT, "These orders are not in the Awaiting shipment status.")
    details = _details(account, order)
    providers = shop_settings(account)["delivery_options"].get(details["delivery_option_id"]) or []
    if body["shipping_provider_id"] not in {p["id"] for p in providers}:
        return _tiktok(
            PROVIDER_OR_TRACKING_INVALID, "Invalid tracking number or provider ID. Please double check and try again."
        )
    tracking = body["tracking_number"]
    used = any(
        u["tracking_number"] == tracking
        for o in account.orders.exclude(pk=order.pk)
        for u in (o.details or {}).get("line_items") or []
    ) or any(u["tracking_number"] == tracking for u in details["line_items"])
    if used:
        return _tiktok(TRACKING_DUPLICATE, "Duplicate tracking number.")
    units = {u["id"]: u for u in details["line_items"]}
    # Left out, the package holds every unit not shipped yet (the ids are optional).
    line_ids = body.get("order_line_item_ids") or [
        i for i, u in units.items() if not u["package_id"] and not u["cancelled"]
    ]
    for line_id in line_ids:
        unit = units.get(line_id)
        # The sources give no code for a line item id not of this order, or shipped or
        # cancelled already; refused with the generic invalid-parameters code (strictest).
        if unit is None or unit["package_id"] or unit["cancelled"]:
            return _tiktok(FULFILLMENT_INVALID_PARAMS, f"Invalid parameters. Line item {line_id} cannot be shipped.")
    package_id = str(int(hashlib.sha256(f"{order_id}:{tracking}".encode()).hexdigest()[:15], 16))
    for line_id in line_ids:
        units[line_id].update(
            package_id=package_id, tracking_number=tracking, shipping_provider_id=body["shipping_provider_id"]
        )
    every = all(u["package_id"] or u["cancelled"] for u in details["line_items"])
    order.details = details
    order.received = [
        *order.received,
        {"kind": "package", "tracking_number": tracking, "package_id": package_id, "body": body},
    ]
    order.status = "IN_TRANSIT" if every else "PARTIALLY_SHIPPING"
    order.updated_at = timezone.now()
    order.save()
    return _ok({"package_id": package_id})


@_guarded(["POST"])
def cancellations(request, account, body):
    """Cancel Order (seller): the order, a reason code valid for its status, optionally
    some line items (partial cancellation, out of stock only)."""
    if not body.get("order_id") or not body.get("cancel_reason"):
        return _tiktok(
            RR_INVALID_PARAM,
            "An invalid request parameter was passed. Please check that you have the correct parameter "
            "type(s) and format.",
        )
    order = _order_for(account, str(body["order_id"]))
    if order is None:
        return _tiktok(RR_INVALID_PARAM, "An invalid request parameter was passed. The order does not exist.")
    reason = body["cancel_reason"]
    every_code = {code for group in CANCEL_REASONS.values() for code in group.values()}
    if reason not in every_code:
        return _tiktok(UNKNOWN_REASON, "Unknown return reason. Please ensure you are passing a valid return reason.")
    if order.status in ("AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED", "PARTIALLY_SHIPPING"):
        return _tiktok(
            ALREADY_SHIPPED, "The order has already been shipped and we are unable to cancel shipment with the courier."
        )
    if order.status == "CANCELLED":
        # Not settled by the sources; an order cancelled already is refused (strictest).
        return _tiktok(RR_INVALID_PARAM, "An invalid request parameter was passed. The order is cancelled already.")
    group = "unpaid" if order.status == "UNPAID" else "paid"
    if reason not in CANCEL_REASONS[group].values():
        return _tiktok(REASON_NOT_FOR_STATUS, "Reason not match order status")
    details = _details(account, order)
    line_ids = body.get("order_line_item_ids") or []
    units = {u["id"]: u for u in details["line_items"]}
    if line_ids and (reason != CANCEL_REASONS[group]["out_of_stock"] or any(i not in units for i in line_ids)):
        return _tiktok(NO_LINE_ITEM_CANCEL, "Unable to cancel individual line items within this request.")
    for line_id in line_ids or list(units):
        units[line_id]["cancelled"] = True
        units[line_id]["cancel_reason"] = reason
    cancel_id = str(int(hashlib.sha256(f"cancel:{order.order_id}:{len(order.received)}".encode()).hexdigest()[:15], 16))
    details["cancel_reason"] = reason
    order.details = details
    order.received = [*order.received, {"kind": "cancellation", "cancel_id": cancel_id, "body": body}]
    if all(u["cancelled"] for u in details["line_items"]):
        order.status = "CANCELLED"
    order.updated_at = timezone.now()
    order.save()
    return _ok({"cancel_id": cancel_id, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"})


# --- Orders placed through the control endpoint ------------------------------------------------

NEW_ORDER_STATUS = "AWAITING_SHIPMENT"
DELIVERED_ORDER_STATUS = "DELIVERED"  # seeded history: shipped and done


def order_line_price(item: SandboxItem) -> tuple[str, str]:
    skus = item.data.get("skus") or [{}]
    sku = next((s for s in skus if s.get("seller_sku") == item.item_id), skus[0])
    price = sku.get("price") or {}
    return price.get("amount", "0"), price.get("currency", "USD")


def app_of(account: SandboxAccount) -> tuple[str, str]:
    """(app key, app secret) of the app the account's calls and webhooks belong to: its own
    (an account keyed by its app key), or the platform app a seller authorised."""
    if account.secret:
        return account.key, account.secret
    app_key = django_settings.TIKTOK_SHOP_APP_KEY
    return app_key, grants.app_secret("tiktok_shop", app_key)


def signed_notification(account: SandboxAccount, body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    app_key, app_secret = app_of(account)
    return raw, {"Authorization": tiktok_webhook_signature(app_key=app_key, app_secret=app_secret, raw_body=raw)}


def order_webhook(account: SandboxAccount, order: SandboxOrder) -> tuple[bytes, dict]:
    """An order status change notification (type 1), signed as TikTok signs webhooks."""
    now = int(time.time())
    return signed_notification(
        account,
        {
            "type": 1,
            "tts_notification_id": uuid.uuid4().hex,
            "shop_id": account.shop_cipher or account.key,
            "timestamp": now,
            "data": {"order_id": order.order_id, "order_status": order.status, "update_time": now},
        },
    )


def record_return(
    account: SandboxAccount,
    order: SandboxOrder,
    line_item_ids: list[str],
    *,
    status: str = "RETURN_OR_REFUND_REQUEST_COMPLETE",
    return_type: str = "REFUND",
) -> dict:
    """A buyer's return or refund of some units (as Search Returns lists it)."""
    details = _details(account, order)
    units = {u["id"]: u for u in details["line_items"]}
    entry = {
        "return_id": str(
            int(hashlib.sha256(f"return:{order.order_id}:{len(details['returns'])}".encode()).hexdigest()[:15], 16)
        ),
        "return_type": return_type,
        "return_status": status,
        "role": "BUYER",
        "create_time": int(time.time()),
        "update_time": int(time.time()),
        "return_line_items": [
            {
                "return_line_item_id": f"r{i}",
                "order_line_item_id": i,
                "sku_id": units[i]["sku_id"],
                "seller_sku": units[i]["seller_sku"],
            }
            for i in line_item_ids
        ],
    }
    details["returns"] = [*details["returns"], entry]
    order.details = details
    order.updated_at = timezone.now()
    order.save(update_fields=["details", "updated_at"])
    return entry


def throttled(*, retry_after: int, regain_minutes: int, key: str) -> JsonResponse:
    """TikTok Shop's throttle: HTTP 429 with its envelope, code 36009003."""
    body = {"code": 36009003, "message": "Too many requests", "request_id": uuid.uuid4().hex, "data": None}
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# --- Authorisation ---------------------------------------------------------------------------------

# The authorisation page and the token endpoints live on their own hosts at TikTok
# (services.tiktokshop.com, auth.tiktok-shops.com); here under the same sandbox prefix.
AUTHORIZE_PATH = "open/authorize"
# "The auth_code expires in 30 minutes and can only be used once."
AUTH_CODE_TTL = dt.timedelta(minutes=30)
# "default expiration time set to seven days".
ACCESS_TOKEN_TTL = dt.timedelta(days=7)
# The authorisation duration the seller picks; the sources give no value (one year here).
REFRESH_TOKEN_TTL = dt.timedelta(days=365)
# Token endpoint refusals: no source documents their codes; 36004004 "invalid auth code" is
# what integrations report from auth.tiktok-shops.com, used for every refused code or token.
AUTH_CODE_INVALID = 36004004
SELLER_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
SHOP_REGIONS = ("US", "GB", "SG")
CONSENT_SCOPES = [
    "Manage your products and inventory",
    "Read and manage your orders, packages and cancellations",
    "Read your returns and refunds",
    "Read your shop's information",
]


def _number(text: str) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest()[:15], 16))


def shop_entry(account: SandboxAccount) -> dict:
    """One shop as Get Authorized Shops lists it."""
    conf = account.settings or {}
    return {
        "id": str(conf.get("shop_id") or _number(f"shop:{account.key}")),
        "name": str(conf.get("shop_name") or f"Sandbox shop {account.key[:12]}"),
        "region": shop_settings(account)["region"],
        "seller_type": "LOCAL",
        "cipher": account.shop_cipher,
        "code": str(conf.get("shop_code") or f"SBX{_number(account.key)[:9]}"),
    }


def seller_shops(seller: str, count: int) -> list[SandboxAccount]:
    """The seller's first `count` shops, made on first sight (each its own cipher, name, region)."""
    shops = []
    for number in range(1, count + 1):
        cipher = "GCP_" + hashlib.sha256(f"tiktok-shop:{seller}:{number}".encode()).hexdigest()[:32]
        account, _ = SandboxAccount.objects.get_or_create(
            channel="tiktok_shop",
            key=cipher,
            defaults={
                "seller": seller,
                "shop_cipher": cipher,
                "secret": "",
                "settings": {
                    "shop_id": _number(f"shop:{seller}:{number}"),
                    "shop_name": f"{seller} shop {number}",
                    "shop_code": f"SBX{_number(cipher)[:9]}",
                    "region": SHOP_REGIONS[(number - 1) % len(SHOP_REGIONS)],
                },
            },
        )
        shops.append(account)
    return shops


def _consent_error(message: str):
    return HttpResponse(
        f"<!doctype html><title>TikTok Shop (sandbox)</title><h1>Authorisation link error</h1><p>{escape(message)}</p>",
        status=400,
    )


def _callback(**params) -> HttpResponseRedirect:
    from channels.adapters.tiktok_shop_auth import TikTokShopAuth

    return HttpResponseRedirect(f"{TikTokShopAuth.redirect_uri()}?{urlencode(params)}")


@csrf_exempt  # the seller's own browser posts the form TikTok's page shows
@require_http_methods(["GET", "POST"])
def authorize(request):
    """TikTok's authorisation page: `service_id` names the app, `state` comes back as given.
    Allowing sends the browser to the app's redirect URL with `code` and `state`; denying
    with `code=null&error=auth_denied`."""
    source = request.POST if request.method == "POST" else request.GET
    service_id = source.get("service_id", "")
    state = source.get("state", "")
    known = django_settings.TIKTOK_SHOP_SERVICE_ID
    if not known or not secrets.compare_digest(known.encode(), service_id.encode()):
        return _consent_error("This authorisation link names no app registered on TikTok Shop (unknown service_id).")
    shops = source.get("shops", "1")
    extra = [{"name": "shops", "label": "Shops of this seller", "options": ["1", "2", "3"], "value": shops}]

    def page(status=200):
        response = grants.consent_page(
            request,
            channel_label="TikTok Shop",
            app_label="Shopadmin",
            scopes=CONSENT_SCOPES,
            hidden={"service_id": service_id, "state": state},
            extra=extra,
        )
        response.status_code = status
        return response

    if request.method == "GET":
        return page()
    decision = request.POST.get("decision", "")
    if decision == "deny":
        return _callback(code="null", error="auth_denied", state=state)
    seller = request.POST.get("seller", "").strip()
    if decision != "allow" or not SELLER_PATTERN.match(seller) or shops not in ("1", "2", "3"):
        return page(status=400)
    seller_shops(seller, int(shops))
    grant = grants.issue_code(
        channel="tiktok_shop",
        client_id=django_settings.TIKTOK_SHOP_APP_KEY,
        seller=seller,
        redirect_uri=_callback().url,
    )
    grant.code_expires_at = grant.created_at + AUTH_CODE_TTL
    grant.save(update_fields=["code_expires_at"])
    return _callback(code=grant.code, state=state)


def _token_answer(grant: SandboxGrant):
    shops = list(grants.seller_accounts("tiktok_shop", grant.seller))
    return _ok(
        {
            "access_token": grant.access_token,
            "access_token_expire_in": int(grant.access_expires_at.timestamp()),
            "refresh_token": grant.refresh_token,
            "refresh_token_expire_in": int(grant.refresh_expires_at.timestamp()),
            "open_id": _number(f"open:{grant.seller}"),
            "seller_name": grant.seller,
            "seller_base_region": shop_settings(shops[0])["region"] if shops else "US",
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.order.info", "seller.fulfillment.basic"],
        }
    )


def _token_app(request, grant_type: str):
    """The app key and secret of a token call; (app_key, error_response)."""
    app_key = request.GET.get("app_key", "")
    secret = grants.app_secret("tiktok_shop", app_key)
    if not secret:
        return app_key, _tiktok(CREDENTIALS_INVALID, "Invalid credentials. Invalid `app_key` query parameter.")
    # Not documented: a wrong app_secret is refused like a wrong app_key (strictest reading).
    if not secrets.compare_digest(secret.encode(), request.GET.get("app_secret", "").encode()):
        return app_key, _tiktok(CREDENTIALS_INVALID, "Invalid credentials. Invalid `app_secret` query parameter.")
    if request.GET.get("grant_type") != grant_type:
        return app_key, _tiktok(CREDENTIALS_INVALID, f"Invalid grant_type. Only `{grant_type}` is accepted as a value.")
    return app_key, None


@csrf_exempt
@require_http_methods(["GET"])
def token_get(request):
    """Get Access Token: `app_key`, `app_secret`, `auth_code`, `grant_type=authorized_code`."""
    app_key, error = _token_app(request, "authorized_code")
    if error is not None:
        return error
    grant, _why = grants.redeem_code(channel="tiktok_shop", client_id=app_key, code=request.GET.get("auth_code", ""))
    if grant is None:
        # A replayed code also revokes what it gave (grants.redeem_code).
        return _tiktok(AUTH_CODE_INVALID, "invalid auth code")
    grants.issue_tokens(grant, access_ttl=ACCESS_TOKEN_TTL, refresh_ttl=REFRESH_TOKEN_TTL)
    return _token_answer(grant)


@csrf_exempt
@require_http_methods(["GET"])
def token_refresh(request):
    """Get Refresh Token: `app_key`, `app_secret`, `refresh_token`, `grant_type=refresh_token`.
    The old tokens stop working; the refresh token keeps the authorisation's expiry
    ("equivalent to the authorization duration")."""
    app_key, error = _token_app(request, "refresh_token")
    if error is not None:
        return error
    grant, why = grants.grant_by_refresh_token(
        channel="tiktok_shop", client_id=app_key, refresh_token=request.GET.get("refresh_token", "")
    )
    if grant is None:
        return _tiktok(AUTH_CODE_INVALID, "refresh token expired" if why == "expired" else "invalid refresh token")
    ends = grant.refresh_expires_at
    grants.issue_tokens(grant, access_ttl=ACCESS_TOKEN_TTL, refresh_ttl=REFRESH_TOKEN_TTL)
    grant.refresh_expires_at = ends
    grant.save(update_fields=["refresh_expires_at"])
    return _token_answer(grant)


@csrf_exempt
@require_http_methods(["GET"])
def authorized_shops(request, version=None):
    """Get Authorized Shops: the shops the token's seller authorised (a per-account app: its shop)."""
    account, grant, error = _caller(request)
    if error is not None:
        return error
    shops = list(grants.seller_accounts("tiktok_shop", grant.seller)) if grant is not None else [account]
    if shops:
        fault = inject(shops[0], request)
        if fault is not None:
            return fault
    return _ok({"shops": [shop_entry(a) for a in shops]})


def _notify_seller(account: SandboxAccount, action: str) -> None:
    """TikTok's seller webhooks to each of the seller's shops: 6 (seller deauthorization) after
    a revoke, 7 (upcoming authorization expiration) for "warn_expiry"."""
    latest = SandboxGrant.objects.filter(channel="tiktok_shop", seller=account.seller).order_by("-created_at").first()
    expires = latest.refresh_expires_at if latest is not None and latest.refresh_expires_at else timezone.now()
    days = max(0, (expires - timezone.now()).days)
    for shop in grants.seller_accounts("tiktok_shop", account.seller):
        if not shop.webhook_url:
            continue
        shop_id = shop_entry(shop)["id"]
        if action == "revoke":
            kind, data = 6, {"message": f"Shop_id {shop_id} is deauthorized from your APP by merchant."}
        else:
            kind, data = (
                7,
                {
                    "message": f"Authorization of shop_id {shop_id} is expiring in {days} days. "
                    "Please direct the merchant to re-authorize.",
                    "expiration_time": str(int(expires.timestamp())),
                },
            )
        raw, headers = signed_notification(
            shop,
            {
                "type": kind,
                "tts_notification_id": _number(uuid.uuid4().hex),
                "shop_id": shop_id,
                "timestamp": int(time.time()),
                "data": data,
            },
        )
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                shop.webhook_url, content=raw, headers={"Content-Type": "application/json", **headers}, timeout=10
            )


grants.GRANT_NOTIFIERS["tiktok_shop"] = _notify_seller


# Base URL …/sandbox/tiktok stands for https://open-api.tiktokglobalshop.com; the version in
# each path must be settings.TIKTOK_SHOP_API_VERSION.
V = r"(?P<version>\d{6})"
urlpatterns = [
    re_path(rf"^{AUTHORIZE_PATH}$", authorize),
    re_path(r"^api/v2/token/get$", token_get),
    re_path(r"^api/v2/token/refresh$", token_refresh),
    re_path(rf"^authorization/{V}/shops$", authorized_shops),
    re_path(rf"^product/{V}/categories$", categories),
    re_path(rf"^product/{V}/categories/recommend$", categories_recommend),
    re_path(rf"^product/{V}/brands$", brands),
    re_path(rf"^product/{V}/images/upload$", images_upload),
    re_path(rf"^product/{V}/products$", products_create),
    re_path(rf"^product/{V}/products/search$", products_search),
    re_path(rf"^product/{V}/products/deactivate$", products_deactivate),
    re_path(rf"^product/{V}/products/activate$", products_activate),
    re_path(rf"^product/{V}/products/(?P<product_id>\d+)$", product),
    re_path(rf"^product/{V}/products/(?P<product_id>\d+)/prices/update$", product_prices_update),
    re_path(rf"^product/{V}/products/(?P<product_id>\d+)/inventory/update$", product_inventory_update),
    re_path(rf"^logistics/{V}/warehouses$", warehouses),
    re_path(rf"^logistics/{V}/delivery_options/(?P<delivery_option_id>\d+)/shipping_providers$", shipping_providers),
    re_path(rf"^order/{V}/orders/search$", orders_search),
    re_path(rf"^order/{V}/orders$", orders_detail),
    re_path(rf"^return_refund/{V}/returns/search$", returns_search),
    re_path(rf"^fulfillment/{V}/orders/(?P<order_id>\d+)/packages$", ship_packages),
    re_path(rf"^return_refund/{V}/cancellations$", cancellations),
]
