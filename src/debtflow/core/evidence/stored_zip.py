"""Deterministic stored ZIP archives, as evidence packages use them: every member stored
uncompressed, fixed 1980-01-01 timestamps, no extra fields, no ZIP64 — so the same members
and comment always give the same bytes, and a reader can demand exactly that layout.

Only the standard library is imported (the offline verifier uses this)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION = 20
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_ZIP_LIMIT = 0xFFFFFFFF


class ZipLimitError(ValueError):
    """More members or bytes than a ZIP without ZIP64 can hold."""


@dataclass(frozen=True)
class ZipRegion:
    start: int
    end: int
    description: str


def write_stored_zip(
    members: Sequence[tuple[str, bytes]], comment: bytes
) -> tuple[bytes, list[ZipRegion]]:
    """A deterministic stored ZIP and a map of which byte ranges hold what."""
    if len(members) > 0xFFFF:
        raise ZipLimitError("more than 65,535 members (ZIP64 is not supported)")
    out = bytearray()
    regions: list[ZipRegion] = []
    central = bytearray()
    central_regions: list[tuple[int, int, str]] = []
    for name, content in members:
        encoded = name.encode("ascii")
        if len(content) > _ZIP_LIMIT or len(out) > _ZIP_LIMIT:
            raise ZipLimitError(f"{name}: the package would exceed 4 GiB (ZIP64 is not supported)")
        crc = zlib.crc32(content)
        offset = len(out)
        out += _LOCAL.pack(
            _LOCAL_SIG, _VERSION, 0, 0, 0, _DOS_DATE, crc, len(content), len(content),
            len(encoded), 0,
        )  # fmt: skip
        out += encoded
        regions.append(ZipRegion(offset, len(out), f"ZIP local header of {name}"))
        regions.append(ZipRegion(len(out), len(out) + len(content), f"content of {name}"))
        out += content
        start = len(central)
        central += _CENTRAL.pack(
            _CENTRAL_SIG, _VERSION, _VERSION, 0, 0, 0, _DOS_DATE, crc, len(content),
            len(content), len(encoded), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += encoded
        central_regions.append((start, len(central), name))
    directory_offset = len(out)
    if directory_offset + len(central) > _ZIP_LIMIT:
        raise ZipLimitError("the package would exceed 4 GiB (ZIP64 is not supported)")
    for start, end, name in central_regions:
        regions.append(
            ZipRegion(
                directory_offset + start,
                directory_offset + end,
                f"ZIP central directory entry of {name}",
            )
        )
    out += central
    end_offset = len(out)
    out += _END.pack(
        _END_SIG, 0, 0, len(members), len(members), len(central), directory_offset, len(comment)
    )
    regions.append(ZipRegion(end_offset, len(out), "ZIP end-of-central-directory record"))
    out += comment
    regions.append(ZipRegion(len(out) - len(comment), len(out), "package seal (ZIP comment)"))
    return bytes(out), regions


class ZipStructureError(ValueError):
    """The archive is not laid out as a debtflow package's ZIP."""


def read_stored_zip(archive: bytes, *, comment_size: int) -> tuple[list[tuple[str, bytes]], bytes]:
    """Members (in order) and comment (``comment_size`` bytes, no other size accepted) of a
    stored ZIP written by :func:`write_stored_zip`.

    The whole layout is checked before any member's bytes are copied: the central directory
    entries must describe members that follow each other without gaps or overlaps, in
    directory order from the start of the archive to the directory, under distinct names —
    which every package :func:`write_stored_zip` makes does. So the bytes copied never add
    up to more than the archive's own size, whatever the directory claims (a crafted
    directory of 65,535 entries pointing at one large member is refused, not read 65,535
    times). Anything else raises :class:`ZipStructureError`.
    """
    end_offset = len(archive) - _END.size - comment_size
    if end_offset < 0:
        raise ZipStructureError("the file is too short to be an evidence package")
    (signature, disk, directory_disk, on_disk, total, directory_size, directory_offset,
     stated_comment_size) = _END.unpack_from(archive, end_offset)  # fmt: skip
    if (
        signature != _END_SIG
        or disk
        or directory_disk
        or on_disk != total
        or stated_comment_size != comment_size
        or directory_offset + directory_size != end_offset
    ):
        raise ZipStructureError(
            "ZIP end-of-central-directory record altered (or not a debtflow evidence package)"
        )
    # every entry takes at least a fixed header and a one-character name, in the directory
    # and again in the member area
    if total * (_CENTRAL.size + 1) > directory_size or total * (_LOCAL.size + 1) > directory_offset:
        raise ZipStructureError(
            f"ZIP end-of-central-directory record altered: {total} entries cannot fit "
            "in the archive"
        )
    comment = archive[end_offset + _END.size :]
    position = directory_offset
    expected_offset = 0  # where the next member's local header must start
    spans: list[tuple[str, int, int]] = []  # name, start and size of each member's content
    names: set[bytes] = set()
    for number in range(total):
        if position + _CENTRAL.size > end_offset:
            raise ZipStructureError("ZIP central directory is shorter than its entry count")
        fields = _CENTRAL.unpack_from(archive, position)
        name_size, extra_size, comment_len = fields[10], fields[11], fields[12]
        name_end = position + _CENTRAL.size + name_size
        if name_size == 0 or name_end > end_offset:
            raise ZipStructureError(f"ZIP central directory entry #{number + 1} altered")
        raw_name = archive[position + _CENTRAL.size : name_end]
        try:
            name = raw_name.decode("ascii")
        except UnicodeDecodeError:
            name = repr(raw_name)
        if fields[0] != _CENTRAL_SIG:
            raise ZipStructureError(f"ZIP central directory entry #{number + 1} altered")
        if fields[4] != 0 or extra_size or comment_len:
            raise ZipStructureError(f"ZIP central directory entry of {name} altered")
        crc, size, local_offset = fields[7], fields[8], fields[16]
        position = name_end
        if local_offset != expected_offset:
            raise ZipStructureError(
                f"ZIP central directory entry of {name} altered (offset: its member does not "
                "start where the previous one ends)"
            )
        if local_offset + _LOCAL.size + name_size > directory_offset:
            raise ZipStructureError(f"ZIP central directory entry of {name} altered (offset)")
        local = _LOCAL.unpack_from(archive, local_offset)
        local_name_size = local[9]
        local_name = archive[local_offset + _LOCAL.size : local_offset + _LOCAL.size + name_size]
        if local_name != raw_name:
            raise ZipStructureError(
                f"ZIP central directory entry #{number + 1} or the local header it points to "
                f"altered (names differ: {name!r} and {local_name!r})"
            )
        if (
            local[0] != _LOCAL_SIG
            or local[3] != 0
            or local[6] != crc
            or local[7] != size
            or local[8] != size
            or local_name_size != name_size
            or local[10] != 0
            or local_name != raw_name
        ):
            raise ZipStructureError(
                f"ZIP local header of {name} altered (it disagrees with the central directory)"
            )
        start = local_offset + _LOCAL.size + name_size
        if start + size > directory_offset:
            raise ZipStructureError(f"ZIP entry of {name} runs past the member area")
        if raw_name in names:
            raise ZipStructureError(f"the ZIP holds two members named {name}")
        names.add(raw_name)
        spans.append((name, start, size))
        expected_offset = start + size
    if position != end_offset:
        raise ZipStructureError("ZIP central directory size disagrees with its entries")
    if expected_offset != directory_offset:
        raise ZipStructureError(
            f"ZIP member area altered: {directory_offset - expected_offset} byte(s) before the "
            "central directory belong to no member"
        )
    # the spans tile the member area exactly, so this copies at most len(archive) bytes
    members = [(name, archive[start : start + size]) for name, start, size in spans]
    return members, comment
