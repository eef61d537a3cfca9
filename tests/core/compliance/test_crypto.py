"""Field-level encryption of ID and phone numbers: AES-256-GCM tokens under a key ring, the
key id authenticated, blind index over the normalised value."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from debtflow.core.compliance.crypto import (
    PersonalDataCipher,
    PersonalDataKeyError,
    PersonalDataTokenError,
    normalise_for_index,
    parse_key_ring,
)

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
INDEX = b"i" * 32


def cipher(keys=None, current="k1", index=INDEX):
    return PersonalDataCipher(keys or {"k1": K1}, current, index)


def test_token_names_the_key_and_opens_to_the_value():
    token = cipher().encrypt("110101199001011234")
    version, key_id, body = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    assert "110101199001011234" not in token
    # 12-byte nonce + 18 bytes of value + 16-byte tag
    assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == 12 + 18 + 16
    assert cipher().decrypt(token) == "110101199001011234"


def test_same_value_encrypts_differently_every_time():
    one, two = cipher().encrypt("13812341234"), cipher().encrypt("13812341234")
    assert one != two
    assert cipher().decrypt(one) == cipher().decrypt(two) == "13812341234"


def _flip(token: str, position: int) -> str:
    version, key_id, body = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position] ^= 0x01
    return f"{version}.{key_id}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


@pytest.mark.parametrize("position", [0, 11, 12, -1])  # nonce, first/last ciphertext byte, tag
def test_a_tampered_token_is_refused(position):
    token = cipher().encrypt("13812341234")
    with pytest.raises(PersonalDataTokenError, match="tampered"):
        cipher().decrypt(_flip(token, position))


def test_the_key_id_is_authenticated_so_a_relabelled_token_does_not_open():
    # both keys identical: only the associated data (the key id) can tell the tokens apart
    ring = cipher({"k1": K1, "k2": K1})
    token = ring.encrypt("13812341234")
    with pytest.raises(PersonalDataTokenError, match="tampered"):
        ring.decrypt(token.replace("v1.k1.", "v1.k2.", 1))


def test_unknown_key_id_and_wrong_key_are_refused_clearly():
    token = cipher().encrypt("13812341234")
    with pytest.raises(PersonalDataTokenError, match="key 'k1', which is not in the key ring"):
        cipher({"k2": K2}, "k2").decrypt(token)
    with pytest.raises(PersonalDataTokenError, match="does not open under key 'k1'"):
        cipher({"k1": K2}).decrypt(token)


@pytest.mark.parametrize(
    "token",
    ["13812341234", "v2.k1.abcd", "v1..abcd", "v1.k1.", "v1.k1.a.b", "v1.k1.!!!!", "v1.k1.AA"],
)
def test_what_is_not_a_token_is_refused(token):
    with pytest.raises(PersonalDataTokenError):
        cipher().decrypt(token)


def test_rotation_reencrypts_old_tokens_under_the_current_key_only():
    old = cipher().encrypt("13812341234")
    ring = cipher({"k1": K1, "k2": K2}, "k2")
    assert ring.needs_rotation(old)
    rotated = ring.rotate(old)
    assert ring.key_id_of(rotated) == "k2" and not ring.needs_rotation(rotated)
    assert ring.decrypt(old) == ring.decrypt(rotated) == "13812341234"
    assert ring.rotate(rotated) == rotated  # already current: unchanged
    # once the old key leaves the ring only the rotated token opens
    with pytest.raises(PersonalDataTokenError):
        cipher({"k2": K2}, "k2").decrypt(old)
    assert cipher({"k2": K2}, "k2").decrypt(rotated) == "13812341234"


def test_blind_index_matches_however_the_number_is_written_and_depends_on_its_key():
    index = cipher().blind_index
    assert index("+86 138-1234-1234") == index("13812341234") == index("0086 13812341234")
    assert index("11010119900101123x") == index("11010119900101123X ")
    assert index("13812341234") != index("13812341235")
    assert len(index("13812341234")) == 64 and int(index("13812341234"), 16) >= 0
    # independent of the encryption keys, dependent on the index key
    assert cipher({"k2": K2}, "k2").blind_index("13812341234") == index("13812341234")
    assert cipher(index=b"j" * 32).blind_index("13812341234") != index("13812341234")


def test_normalisation_keeps_what_is_not_a_mainland_mobile_prefix():
    assert normalise_for_index("+86 10 1234 5678") == "+861012345678"
    assert normalise_for_index(" Zhang.San@Example.com ") == "ZHANGSAN@EXAMPLECOM"


@pytest.mark.parametrize(
    ("keys", "current", "index", "message"),
    [
        ({}, "k1", INDEX, "empty"),
        ({"k 1": K1}, "k 1", INDEX, "letters, digits"),
        ({"k1": K1[:16]}, "k1", INDEX, "32 bytes"),
        ({"k1": K1}, "k2", INDEX, "not in the key ring"),
        ({"k1": K1}, "k1", b"short", "blind-index key"),
    ],
)
def test_unusable_key_rings_are_refused(keys, current, index, message):
    with pytest.raises(PersonalDataKeyError, match=message):
        PersonalDataCipher(keys, current, index)


def test_key_ring_text_from_settings():
    text = f"k1:{base64.b64encode(K1).decode()}, k2:{base64.urlsafe_b64encode(K2).decode()}"
    assert parse_key_ring(text) == {"k1": K1, "k2": K2}
    for bad, message in [("k1", "not <key id>:<base64>"), ("k1:%%%", "not base64")]:
        with pytest.raises(PersonalDataKeyError, match=message):
            parse_key_ring(bad)
    with pytest.raises(PersonalDataKeyError, match="twice"):
        parse_key_ring(f"k1:{base64.b64encode(K1).decode()},k1:{base64.b64encode(K2).decode()}")


@given(st.text(max_size=200))
def test_any_text_round_trips_under_any_key_of_the_ring(value):
    old = cipher().encrypt(value)
    ring = cipher({"k1": K1, "k2": K2}, "k2")
    assert ring.decrypt(old) == value
    assert ring.decrypt(ring.encrypt(value)) == value
    assert ring.decrypt(ring.rotate(old)) == value
