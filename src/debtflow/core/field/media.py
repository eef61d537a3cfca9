"""What a field agent may upload from a visit: photos and recordings, recognised by their
first bytes as well as by the type the browser declared, up to a size limit."""

from __future__ import annotations

from dataclasses import dataclass

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

#: declared media type -> the container family its bytes must show
ACCEPTED: dict[str, str] = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "isobmff",
    "audio/mpeg": "mp3",
    "audio/mp4": "isobmff",
    "audio/x-m4a": "isobmff",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "video/mp4": "isobmff",
    "video/webm": "webm",
}


class MediaRejected(ValueError):
    """An upload that is empty, too large, of a type not accepted, or not what it says."""

    def __init__(self, message: str, *, too_large: bool = False, empty: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large
        self.empty = empty


def sniff(content: bytes) -> str | None:
    """The container family of ``content`` from its magic bytes, None when unknown."""
    head = content[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "isobmff"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # an MPEG audio frame sync; ADTS AAC shares the sync with layer bits 00
        return "aac" if head[1] & 0x06 == 0 and not head.startswith(b"ID3") else "mp3"
    return None


@dataclass(frozen=True)
class AcceptedMedia:
    media_type: str
    size: int


def check_upload(
    content: bytes, declared_type: str, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> AcceptedMedia:
    """Accept ``content`` as ``declared_type`` or raise :class:`MediaRejected`."""
    media_type = declared_type.split(";", 1)[0].strip().lower()
    if len(content) > max_bytes:
        # the caller may have read only max_bytes + 1: say "more than", not a size
        raise MediaRejected(
            f"the file is larger than {max_bytes // (1024 * 1024)} MB, the most that may be "
            "uploaded",
            too_large=True,
        )
    if not content:
        raise MediaRejected(
            "the file is empty (0 bytes); choose the photo or recording again", empty=True
        )
    family = ACCEPTED.get(media_type)
    if family is None:
        raise MediaRejected(
            f"{media_type or 'an unnamed type'} is not accepted; upload a photo "
            "(JPEG, PNG, WebP, HEIC) or a recording (MP3, M4A, AAC, WAV, Ogg, WebM, MP4)"
        )
    found = sniff(content)
    if found != family and not (family == "mp3" and found == "aac"):
        raise MediaRejected(f"the file's content is not {media_type}")
    return AcceptedMedia(media_type=media_type, size=len(content))
