"""Reason codes a gate decision can carry. docs/compliance.md documents each one."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    QUIET_HOURS = "quiet_hours"
    PUBLIC_HOLIDAY = "public_holiday"
    DAILY_CONNECTED_CALL_LIMIT = "daily_connected_call_limit"
    SEVEN_DAY_CALL_LIMIT = "seven_day_call_limit"
    POST_CONVERSATION_WAIT = "post_conversation_wait"
    THIRD_PARTY_NOT_PERMITTED = "third_party_not_permitted"
    THIRD_PARTY_DEBTOR_REACHABLE = "third_party_debtor_reachable"
    THIRD_PARTY_NOT_AUTHORISED = "third_party_not_authorised"
    THIRD_PARTY_REFUSED = "third_party_refused"
    THIRD_PARTY_SCRIPT_MISSING = "third_party_script_missing"
    THIRD_PARTY_SCRIPT_DISCLOSES_DEBT = "third_party_script_discloses_debt"
    DO_NOT_CONTACT = "do_not_contact"
    DISPUTE = "dispute"
    HARDSHIP_COOLING_OFF = "hardship_cooling_off"
    LEGAL_HOLD = "legal_hold"
    ATTORNEY_REPRESENTED = "attorney_represented"
