"""Upload checks: size limit, accepted types, and bytes that must match the type."""

from __future__ import annotations

import pytest

from debtflow.core.field.media import MAX_UPLOAD_BYTES, MediaRejected, check_upload, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
M4A = b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 100
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100
MP3 = b"ID3\x04\x00\x00" + b"\x00" * 100


@pytest.mark.parametrize(
    ("content", "family"),
    [(JPEG, "jpeg"), (PNG, "png"), (M4A, "isobmff"), (WAV, "wav"), (MP3, "mp3"),
     (b"OggS\x00", "ogg"), (b"\x1a\x45\xdf\xa3\x01", "webm"), (b"\xff\xf1\x50", "aac"),
     (b"%PDF-1.7", None), (b"", None)],
)  # fmt: skip
def test_sniff(content, family):
    assert sniff(content) == family


def test_photo_and_recording_are_accepted_with_parameters_ignored():
    assert check_upload(JPEG, "image/jpeg").size == len(JPEG)
    assert check_upload(M4A, "audio/mp4; codecs=mp4a").media_type == "audio/mp4"
    assert check_upload(WAV, "Audio/WAV").media_type == "audio/wav"


def test_too_large_is_refused_as_too_large():
    big = JPEG + b"\x00" * (MAX_UPLOAD_BYTES - len(JPEG) + 1)
    with pytest.raises(MediaRejected, match="20 MB") as caught:
        check_upload(big, "image/jpeg")
    assert caught.value.too_large
    assert check_upload(big[:-1], "image/jpeg").size == MAX_UPLOAD_BYTES


def test_empty_unknown_type_and_mismatched_bytes_are_refused():
    for declared in ("image/jpeg", "application/octet-stream", ""):
        with pytest.raises(MediaRejected, match="empty") as caught:
            check_upload(b"", declared)
        assert caught.value.empty and not caught.value.too_large, "said as empty, whatever the type"
    with pytest.raises(MediaRejected, match="not accepted") as caught:
        check_upload(b"%PDF-1.7", "application/pdf")
    assert not caught.value.too_large and not caught.value.empty
    with pytest.raises(MediaRejected, match="not image/png"):
        check_upload(JPEG, "image/png")
    with pytest.raises(MediaRejected, match="not accepted"):
        check_upload(JPEG, "")
