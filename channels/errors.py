"""Stable codes of the channels app's domain errors (accounts, connections, credentials, listings, plans).

A service raises `ValidationError(message, code=ChannelsErrorCode.…)`; the API passes the code
on as `errors[].code` in problem+json. Values never change once published; add new ones.
"""

from __future__ import annotations

import enum


class ChannelsErrorCode(enum.StrEnum):
    UNKNOWN_CHANNEL = "unknown_channel"
    NAME_REQUIRED = "name_required"
    NAME_TOO_LONG = "name_too_long"
    ACCOUNT_NAME_TAKEN = "account_name_taken"  # the shop has an account of this channel with this name
    HAS_ORDERS = "has_orders"  # an account with orders cannot be deleted; pause it instead
    ACCOUNT_NEEDS_RECONNECT = "account_needs_reconnect"  # the channel refused the account's authorisation
    MARKET_INVALID = "market_invalid"  # not a market code or object, unknown keys, a malformed code
    MARKET_DUPLICATE = "market_duplicate"  # the same market twice in one account
    MARKET_NOT_IN_SHOP = "market_not_in_shop"  # no active market of the shop sells there (in that currency)
    API_BASE_URL_REFUSED = "api_base_url_refused"  # not the channel's own API (or this deployment's sandbox)
    CREDENTIAL_INVALID = "credential_invalid"  # not an object / not a string / too long / the wrong shape
    CREDENTIAL_REQUIRED = "credential_required"
    UNKNOWN_CREDENTIAL = "unknown_credential"  # a key the channel's account does not store
    NOTHING_TO_AUTHORIZE = "nothing_to_authorize"  # a feed channel has no authorisation flow
    CHANNEL_APP_NOT_CONFIGURED = "channel_app_not_configured"  # this deployment has no app for the channel
    CONNECTION_NOT_WAITING = "connection_not_waiting"  # the connection no longer waits for a choice
    UNKNOWN_CHOICE = "unknown_choice"  # not one of the shops / ad accounts / catalogs offered
    PUBLISH_METHOD_UNAVAILABLE = "publish_method_unavailable"  # the channel does not offer it
    CHECKOUT_METHOD_UNAVAILABLE = "checkout_method_unavailable"  # the channel does not offer it
    RULE_TARGET_INVALID = "rule_target_invalid"  # a listing rule names both or neither a product and a category
    RULE_TARGET_NOT_FOUND = "rule_target_not_found"  # no product with the handle or category with the path
    CUSTOM_LABELS_INVALID = "custom_labels_invalid"  # not a list of words, more than 5, or one over 100 characters
    PLAN_NOT_DRAFT = "plan_not_draft"  # a publish plan already applied or superseded
    CHANNEL_UNCHANGEABLE = "channel_unchangeable"  # an account stays on its channel; connect a new one
    API_KEY_WITHOUT_USER = "api_key_without_user"  # an authorisation through the API binds to the key's creator
    INTERNAL_ACCOUNT = "internal_account"  # the shop's own checkout account: Shopadmin keeps it, read-only
