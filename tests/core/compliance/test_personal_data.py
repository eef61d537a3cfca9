from __future__ import annotations

import pytest

from debtflow.core.compliance.personal_data import (
    FieldKind,
    PersonalDataError,
    ViewerRole,
    ViewLevel,
    mask_id_number,
    mask_phone,
    show_field,
)


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
