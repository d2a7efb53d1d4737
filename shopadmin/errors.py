"""Stable codes of the shop core's domain errors (members, invitations, API keys, settings).

A service raises `ValidationError(message, code=ShopErrorCode.…)`; the API passes the code on
as `errors[].code` in problem+json. Values never change once published; add new ones.
"""

from __future__ import annotations

import enum


class ShopErrorCode(enum.StrEnum):
    LAST_OWNER = "last_owner"  # removing or demoting the shop's only owner
    UNKNOWN_ROLE = "unknown_role"
    ALREADY_MEMBER = "already_member"
    INVITATION_PENDING = "invitation_pending"  # the address already has an open invitation
    INVITATION_INVALID = "invitation_invalid"  # the invitation was accepted, revoked, expired or never existed
    INVITATION_EMAIL_MISMATCH = "invitation_email_mismatch"  # accepting while signed in with another address
    UNKNOWN_SCOPE = "unknown_scope"
    SCOPE_REQUIRED = "scope_required"  # an API key needs at least one scope
    API_KEY_NAME_TAKEN = "api_key_name_taken"
    INVALID_CURRENCY = "invalid_currency"  # not an ISO 4217 code
    INVALID_COUNTRY = "invalid_country"  # not an ISO 3166-1 code
    INVALID_LANGUAGE = "invalid_language"  # not a language tag such as en, fr or fr-CA
    INVALID_TIMEZONE = "invalid_timezone"  # not an IANA time zone
