"""Stable codes of the localization app's domain errors (markets, rates, prices, duties, translations).

A service raises `ValidationError(message, code=LocalizationErrorCode.…)`; the API passes the
code on as `errors[].code` in problem+json. Values never change once published; add new ones.
"""

from __future__ import annotations

import enum


class LocalizationErrorCode(enum.StrEnum):
    DECIMAL_INVALID = "decimal_invalid"  # not a (finite) decimal number such as 0.76
    RATE_NOT_POSITIVE = "rate_not_positive"  # an exchange rate of zero or less
    SAME_CURRENCY = "same_currency"  # an exchange rate whose quote currency is its base currency
    MARKET_NAME_TAKEN = "market_name_taken"
    HOME_MARKET_UNDELETABLE = "home_market_undeletable"  # every shop sells in its home market
    COUNTRY_REQUIRED = "country_required"  # a market needs at least one country
    LANGUAGE_REQUIRED = "language_required"  # a market needs at least one language
    UNKNOWN_ROUNDING = "unknown_rounding"  # not one of the rounding presets
    ROUNDING_INVALID = "rounding_invalid"  # the rounding step or ending does not fit the market's currency
    ADJUSTMENT_TOO_LOW = "adjustment_too_low"  # a price adjustment of -100% or less
    DUTY_RATE_INCOMPLETE = "duty_rate_incomplete"  # a specific or compound duty without its currency and unit
    PRICE_REQUIRED = "price_required"  # a market price override with neither a fixed nor a sale price
    SALE_WINDOW_INVALID = "sale_window_invalid"  # the sale ends before it starts
    PRICE_NOT_IN_MINOR_UNITS = "price_not_in_minor_units"  # finer than the currency's smallest unit
    CSV_COLUMNS_MISSING = "csv_columns_missing"
    TRANSLATION_ROW_INVALID = "translation_row_invalid"  # a row of a translations file names an unknown target
    RATE_NOT_FOUND = "rate_not_found"  # no exchange rate between the two currencies (a quote, a price)
    MARKET_NOT_FOUND = "market_not_found"  # no market with this id in the shop
    SKU_NOT_FOUND = "sku_not_found"  # no variant with this SKU in the shop
    SHIPPING_AMOUNT_NEGATIVE = "shipping_amount_negative"  # a shipping rate's amount below zero
    SHIPPING_PER_KG_REQUIRED = "shipping_per_kg_required"  # a rate by weight without its amount per kg
    SHIPPING_THRESHOLD_REQUIRED = "shipping_threshold_required"  # a free-over rate without its threshold
    SHIPPING_WEIGHT_BAND_INVALID = "shipping_weight_band_invalid"  # a maximum weight below the minimum
    SHIPPING_RATE_NOT_FOUND = "shipping_rate_not_found"  # no shipping rate with this id in the shop
    SHIPPING_RATE_NOT_OFFERED = "shipping_rate_not_offered"  # inactive, outside its weight band, or stale currency
