"""Stable codes of the orders app's domain errors (fulfilments, cancellations, refunds, reconciliation).

A service raises `ValidationError(message, code=OrdersErrorCode.…)`; the API passes the code on
as `errors[].code` in problem+json. Values never change once published; add new ones.
"""

from __future__ import annotations

import enum


class OrdersErrorCode(enum.StrEnum):
    ORDER_CLOSED = "order_closed"  # the order is cancelled or fulfilled: nothing more to ship or cancel
    LINE_NOT_IN_ORDER = "line_not_in_order"
    NO_LINES_SELECTED = "no_lines_selected"  # a fulfilment without any item to ship
    FULFILL_EXCEEDS_OPEN = "fulfill_exceeds_open"  # shipping more of a line than is left to ship
    INSUFFICIENT_STOCK = "insufficient_stock"  # not enough allocated stock to ship a line
    NOTHING_TO_CANCEL = "nothing_to_cancel"  # everything has shipped; refund instead
    AMOUNT_INVALID = "amount_invalid"  # not a number such as 19.99
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    REFUND_EXCEEDS_TOTAL = "refund_exceeds_total"  # more than is left to refund of the order's total
    REFUND_EXCEEDS_ORDERED = "refund_exceeds_ordered"  # refunding more units of a line than were ordered
    EXTERNAL_ID_REQUIRED = "external_id_required"  # the channel's order has no id
    CHANNEL_HAS_NO_ORDER_API = "channel_has_no_order_api"  # nothing to reconcile against
    ACCOUNT_NEEDS_RECONNECT = "account_needs_reconnect"  # the channel refused the account's authorisation
    ISSUE_RESOLVED = "issue_resolved"  # a reconciliation issue that is already resolved
    ORDER_NOT_ON_CHANNEL = "order_not_on_channel"  # the channel does not list the order
    ORDER_STALE = "order_stale"  # the channel's copy is older than the one we hold
    NOTHING_TO_PUSH = "nothing_to_push"  # nothing to send to the channel again for this issue
    PUSH_REFUSED = "push_refused"  # the channel refused the fulfilment or cancellation again
    UNKNOWN_ACTION = "unknown_action"  # not one of the reconciliation issue's actions
    DISCOUNT_CODE_INVALID = "discount_code_invalid"  # letters, digits, - and _ only, up to 40 characters
    DISCOUNT_CODE_TAKEN = "discount_code_taken"  # the shop has this code already (in any case)
    # A percentage outside 0-100, an amount not above zero or finer than the currency's minor unit, a negative minimum.
    DISCOUNT_VALUE_INVALID = "discount_value_invalid"
    DISCOUNT_DATES_INVALID = "discount_dates_invalid"  # the end is not after the start
    DISCOUNT_LIMIT_BELOW_USES = "discount_limit_below_uses"  # a usage limit below the uses already counted
    DISCOUNT_CODE_USED = "discount_code_used"  # a code orders have used is deactivated, not deleted
    AD_SPEND_MONTH_TAKEN = "ad_spend_month_taken"  # the source already has a spend for that month: change it
    SOURCE_REQUIRED = "source_required"  # an ad spend without a source (or one made only of symbols)
    CSV_COLUMNS_MISSING = "csv_columns_missing"  # an ad spend file without the source, month or amount column
    AD_SPEND_ROW_INVALID = "ad_spend_row_invalid"  # a row of an ad spend file that cannot be read
    DATE_RANGE_INVALID = "date_range_invalid"  # a report's end before its start, or a range too long
