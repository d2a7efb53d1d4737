"""Stable codes of the catalog's domain errors (products, variants, categories, stock, imports).

A service raises `ValidationError(message, code=CatalogErrorCode.…)`; the API passes the code
on as `errors[].code` in problem+json. Values never change once published; add new ones.
"""

from __future__ import annotations

import enum


class CatalogErrorCode(enum.StrEnum):
    UNKNOWN_FIELDS = "unknown_fields"  # a service was given fields the object does not have
    AMOUNT_INVALID = "amount_invalid"  # not a number such as 19.99
    AMOUNT_NEGATIVE = "amount_negative"
    AMOUNT_TOO_PRECISE = "amount_too_precise"  # more than 3 decimal places
    CURRENCY_MISMATCH = "currency_mismatch"  # an amount not in the shop currency
    CATEGORY_EXISTS = "category_exists"  # another category has the same full path
    CATEGORY_NAME_INVALID = "category_name_invalid"  # contains ">", the level separator
    CATEGORY_NAME_REQUIRED = "category_name_required"
    CATEGORY_CYCLE = "category_cycle"  # a category moved inside itself
    CATEGORY_PATH_TOO_LONG = "category_path_too_long"
    CATEGORY_IN_USE = "category_in_use"  # other settings (listing rules) point at it
    CATEGORY_NOT_EMPTY = "category_not_empty"  # has products or subcategories
    HANDLE_TAKEN = "handle_taken"  # another product uses the handle
    TAGS_INVALID = "tags_invalid"  # not a list of words
    UNKNOWN_ACTION = "unknown_action"  # a bulk action the catalog does not know
    TAG_REQUIRED = "tag_required"
    NO_PRODUCTS_SELECTED = "no_products_selected"
    OPTION_NAME_REQUIRED = "option_name_required"
    OPTION_NAME_DUPLICATE = "option_name_duplicate"
    TOO_MANY_OPTIONS = "too_many_options"  # channels accept at most 3
    OPTION_VALUES_INVALID = "option_values_invalid"  # not a list of words / not an object of name: value
    OPTION_VALUE_DUPLICATE = "option_value_duplicate"
    UNKNOWN_OPTION = "unknown_option"  # a variant names an option its product does not have
    SKU_REQUIRED = "sku_required"
    SKU_TAKEN = "sku_taken"  # another variant uses the SKU
    SKU_DUPLICATE = "sku_duplicate"  # the same SKU twice in one request
    PRICE_REQUIRED = "price_required"
    COMPARE_AT_PRICE_TOO_LOW = "compare_at_price_too_low"  # not above the price
    PRODUCT_REQUIRED = "product_required"  # a new SKU needs its product's id
    PRODUCT_NOT_FOUND = "product_not_found"
    VARIANT_NOT_FOUND = "variant_not_found"
    VARIANT_CANNOT_MOVE = "variant_cannot_move"  # to another product
    VARIANT_OF_ANOTHER_PRODUCT = "variant_of_another_product"  # media pointing at another product's variant
    MEDIA_SOURCE_REQUIRED = "media_source_required"  # neither an image URL nor a file
    IMAGE_INVALID = "image_invalid"  # not a picture Pillow can read (a text file named .png, a truncated file)
    IMAGE_FORMAT_NOT_ALLOWED = "image_format_not_allowed"  # a picture, but not JPEG, PNG, WebP or GIF
    IMAGE_FILE_TOO_LARGE = "image_file_too_large"  # over the upload's byte limit (20 MB)
    IMAGE_TOO_MANY_PIXELS = "image_too_many_pixels"  # over 25 megapixels (decompression bombs included)
    IMAGE_TOO_SMALL = "image_too_small"  # a side under 500 px, the channels' minimum
    IMAGE_TOO_ELONGATED = "image_too_elongated"  # the longer side over 4 times the shorter
    NO_ITEMS = "no_items"  # an empty bulk request
    TOO_MANY_ITEMS = "too_many_items"  # over the bulk limit
    BULK_ITEMS_INVALID = "bulk_items_invalid"  # some items of an all-or-nothing bulk request are invalid
    INVALID_GTIN = "invalid_gtin"  # not digits only
    INVALID_GTIN_LENGTH = "invalid_gtin_length"  # not 8, 12, 13 or 14 digits
    INVALID_GTIN_CHECK_DIGIT = "invalid_gtin_check_digit"
    INVALID_HS_CODE = "invalid_hs_code"  # not 6 to 10 digits
    LOCATION_CODE_TAKEN = "location_code_taken"
    LOCATION_NOT_FOUND = "location_not_found"
    NO_MOVEMENTS = "no_movements"  # a stock posting without lines
    UNKNOWN_REASON = "unknown_reason"  # a stock movement reason the ledger does not know
    QUANTITY_INVALID = "quantity_invalid"  # zero, negative or not a whole number where that makes no sense
    INSUFFICIENT_STOCK = "insufficient_stock"  # on hand would go below zero, or below what is allocated
    RELEASE_EXCEEDS_ALLOCATED = "release_exceeds_allocated"
    FILE_TOO_LARGE = "file_too_large"
    FILE_NOT_CSV = "file_not_csv"
    NOT_CHECKED = "not_checked"  # importing a file that was not checked, or had errors when checked
    IMPORT_HAS_ERRORS = "import_has_errors"  # the file has problems; nothing was imported
