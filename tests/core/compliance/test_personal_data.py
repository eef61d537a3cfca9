from __future__ import annotations

import pytest

from debtflow.core.compliance.personal_data import (
    BlindIndex,
    FieldCipher,
    FieldKind,
    PersonalDataError,
    ViewerRole,
    ViewLevel,
    mask_id_number,
    mask_phone,
    normalise_phone,
    show_field,
)

OLD, NEW, INDEX = b"o" * 32, b"n" * 32, b"i" * 32
PHONE = "debtor.phone"


def test_round_trip_and_fresh_nonce():
    cipher = FieldCipher({"k1": OLD}, active_key_id="k1")
    first = cipher.encrypt("13812341234", field=PHONE)
    second = cipher.encrypt("13812341234", field=PHONE)
    assert first != second and "13812341234" not in first
    assert first.startswith("v1.k1.")
    assert cipher.decrypt(first, field=PHONE) == "13812341234"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
        lambda token: token[:-6],
        lambda token: "v2" + token[2:],
        lambda token: "garbage",
    ],
)
def test_tampered_tokens_do_not_decrypt(tamper):
    cipher = FieldCipher({"k1": OLD}, active_key_id="k1")
    token = cipher.encrypt("110101199001011234", field="debtor.id_number")
    with pytest.raises(PersonalDataError):
        cipher.decrypt(tamper(token), field="debtor.id_number")


def test_token_is_bound_to_its_field():
    cipher = FieldCipher({"k1": OLD}, active_key_id="k1")
    token = cipher.encrypt("13812341234", field=PHONE)
    with pytest.raises(PersonalDataError, match="another field"):
        cipher.decrypt(token, field="guarantor.phone")


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key():
    old_token = FieldCipher({"k1": OLD}, active_key_id="k1").encrypt("13812341234", field=PHONE)
    both = FieldCipher({"k1": OLD, "k2": NEW}, active_key_id="k2")
    assert both.needs_rotation(old_token)
    rotated = both.rotate(old_token, field=PHONE)
    assert both.key_id_of(rotated) == "k2" and not both.needs_rotation(rotated)
    assert both.rotate(rotated, field=PHONE) == rotated
    only_new = FieldCipher({"k2": NEW}, active_key_id="k2")
    assert only_new.decrypt(rotated, field=PHONE) == "13812341234"
    with pytest.raises(PersonalDataError, match="not loaded"):
        only_new.decrypt(old_token, field=PHONE)


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({"k1": b"short"}, "k1", "32 bytes"),
        ({"k1": OLD}, "k9", "active key"),
        ({"bad id!": OLD}, "bad id!", "key id"),
    ],
)
def test_bad_keys_are_refused(keys, active, message):
    with pytest.raises(PersonalDataError, match=message):
        FieldCipher(keys, active_key_id=active)


def test_blind_index_finds_the_same_number_however_written():
    index = BlindIndex({"b1": INDEX}, active_key_id="b1")
    stored = index.index(normalise_phone("138 1234 1234"), field=PHONE)
    for written in ("+86 138-1234-1234", "13812341234", "0086 13812341234"):
        assert index.index(normalise_phone(written), field=PHONE) == stored
    assert index.index(normalise_phone("13812341235"), field=PHONE) != stored
    assert index.index("13812341234", field="guarantor.phone") != stored
    other_key = BlindIndex({"b1": b"j" * 32}, active_key_id="b1")
    assert other_key.index("13812341234", field=PHONE) != stored


def test_blind_index_lookup_during_rotation_matches_old_and_new_values():
    old = BlindIndex({"b1": INDEX}, active_key_id="b1").index("13812341234", field=PHONE)
    rotating = BlindIndex({"b1": INDEX, "b2": b"j" * 32}, active_key_id="b2")
    values = rotating.lookup_values("13812341234", field=PHONE)
    assert old in values and rotating.index("13812341234", field=PHONE) in values


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("021-6123456", "******3456"),
        ("1234", "****"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("110101199001011234", "1101**********1234"),
        ("11010119900101123x", "1101**********123X"),
        ("110101900101123", "1101*******1123"),
    ],
)
def test_mask_id_number(id_number, masked):
    assert mask_id_number(id_number) == masked


@pytest.mark.parametrize("bad", ["12345", "11010119900101123Y", "abc"])
def test_invalid_id_number_is_refused(bad):
    with pytest.raises(PersonalDataError):
        mask_id_number(bad)


@pytest.mark.parametrize(
    ("role", "assigned", "kind", "text", "level"),
    [
        (ViewerRole.COLLECTOR, True, FieldKind.PHONE, "13812341234", ViewLevel.FULL),
        (ViewerRole.COLLECTOR, False, FieldKind.PHONE, "138****1234", ViewLevel.MASKED),
        (ViewerRole.SUPERVISOR, True, FieldKind.PHONE, "138****1234", ViewLevel.MASKED),
        (ViewerRole.PARTNER, False, FieldKind.PHONE, "138****1234", ViewLevel.MASKED),
        (ViewerRole.PARTNER, False, FieldKind.ID_NUMBER, None, ViewLevel.HIDDEN),
        (ViewerRole.CREDITOR, False, FieldKind.PHONE, None, ViewLevel.HIDDEN),
        (ViewerRole.COLLECTOR, True, FieldKind.ID_NUMBER, "110101199001011234", ViewLevel.FULL),
        (
            ViewerRole.COMPLIANCE_OFFICER,
            False,
            FieldKind.ID_NUMBER,
            "1101**********1234",
            ViewLevel.MASKED,
        ),
    ],
)
def test_show_field_by_role(role, assigned, kind, text, level):
    value = "13812341234" if kind is FieldKind.PHONE else "110101199001011234"
    shown = show_field(value, kind, role=role, assigned_collector=assigned)
    assert (shown.text, shown.level) == (text, level)
    assert shown.must_log_view is (level is ViewLevel.FULL)
