"""Evidence packages: build, verify offline, and catch every changed byte by name."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.evidence.canonical import canonical_json, parse_canonical_json
from debtflow.core.evidence.leaf import EvidenceLeaf, LeafKind, parse_leaf
from debtflow.core.evidence.merkle import inclusion_proof, leaf_hash, root_hash
from debtflow.core.evidence.package import (
    MANIFEST_NAME,
    SEAL_SIZE,
    PackagedLeaf,
    PackageError,
    WitnessEvidence,
    assemble_package,
    build_evidence_package,
    verify_evidence_package,
)
from debtflow.core.evidence.stored_zip import (
    _CENTRAL,
    _END,
    _LOCAL,
    ZipStructureError,
    read_stored_zip,
    write_stored_zip,
)
from debtflow.core.evidence.tree_head import (
    Keyring,
    LocalWitness,
    TreeHeadSigner,
    public_key_bytes,
)
from debtflow.verify import main

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
CASE = 42


@dataclass
class Fixture:
    signer: TreeHeadSigner
    keyring: Keyring
    leaves: list[PackagedLeaf]
    files: dict[str, bytes]
    hashes: list[bytes]
    witnesses: list[WitnessEvidence]

    def build(self, **changes: object) -> bytes:
        arguments: dict[str, object] = {
            "case_id": CASE,
            "leaves": self.leaves,
            "signed_head": self.signer.sign(len(self.hashes), root_hash(self.hashes), NOW),
            "keyring": self.keyring,
            "files": self.files,
            "exported_at": NOW + timedelta(hours=1),
            "witnesses": self.witnesses,
        }
        arguments.update(changes)
        return build_evidence_package(**arguments)  # type: ignore[arg-type]


def make_fixture() -> Fixture:
    signer = TreeHeadSigner.from_seed(b"\x01" * 32)
    keyring = Keyring()
    keyring.add(public_key_bytes(signer.public_key))
    recording, photo = b"fake wav " * 20, b"fake jpeg " * 12
    files = {hashlib.sha256(x).hexdigest(): x for x in (recording, photo)}
    acts = [
        EvidenceLeaf(LeafKind.GATE_DECISION, CASE, NOW, {"allow": True, "rule": "hours"}),
        EvidenceLeaf(
            LeafKind.RECORDING, CASE, NOW, {"call_id": 9}, (hashlib.sha256(recording).hexdigest(),)
        ),
        EvidenceLeaf(LeafKind.PROMISE, CASE, NOW, {"amount_fen": 120_000, "due": "2026-12-05"}),
        EvidenceLeaf(
            LeafKind.FIELD_CHECKIN,
            CASE,
            NOW,
            {"lat_e6": 31230416, "lon_e6": 121473701},
            (hashlib.sha256(photo).hexdigest(),),
        ),
        EvidenceLeaf(LeafKind.PAYMENT, CASE, NOW, {"amount_fen": 40_000, "note": "首期 first"}),
    ]
    raw = [act.canonical_bytes() for act in acts]
    others = [leaf_hash(b"other case %d" % i) for i in range(12)]
    hashes = others[:3] + [leaf_hash(raw[0])] + others[3:7] + [leaf_hash(r) for r in raw[1:]]
    hashes += others[7:]
    positions = [3, 8, 9, 10, 11]
    leaves = [
        PackagedLeaf(p, r, inclusion_proof(hashes, p)) for p, r in zip(positions, raw, strict=True)
    ]
    head = signer.sign(len(hashes), root_hash(hashes), NOW)
    witness = LocalWitness(Ed25519PrivateKey.from_private_bytes(b"\x07" * 32), keyring)
    witnesses = [WitnessEvidence(witness.public_key, witness.cosign(head, []))]
    return Fixture(signer, keyring, leaves, files, hashes, witnesses)


FIXTURE = make_fixture()
PACKAGE = FIXTURE.build()


def test_built_package_verifies_and_is_deterministic() -> None:
    verdict = verify_evidence_package(PACKAGE)
    assert verdict.valid, verdict.problems
    assert (verdict.case_id, verdict.leaf_count, verdict.file_count) == (CASE, 5, 2)
    assert verdict.tree_size == len(FIXTURE.hashes)
    assert verdict.key_id == FIXTURE.signer.key_id.hex()
    assert len(verdict.witness_key_ids) == 1
    assert FIXTURE.build() == PACKAGE


def test_package_holds_readable_bilingual_index_and_exact_leaf_bytes() -> None:
    members = dict(read_stored_zip(PACKAGE, comment_size=SEAL_SIZE)[0])
    index = members["index.html"].decode("utf-8")
    assert "承诺还款" in index and "promise to pay" in index and "如何核验" in index
    assert "How to verify" in index and FIXTURE.signer.key_id.hex() in index
    for leaf in FIXTURE.leaves:
        assert members[f"leaves/{leaf.index:020d}.json"] == leaf.canonical_bytes
    for digest, content in FIXTURE.files.items():
        assert members[f"files/{digest}"] == content
    manifest = parse_canonical_json(members[MANIFEST_NAME])
    assert isinstance(manifest, dict) and manifest["format"] == "debtflow-evidence-package/1"


def expected_subject(description: str) -> str:
    """What a problem message must name for a byte changed in this region."""
    if description.startswith("content of "):
        name = description.removeprefix("content of ")
        return name if name != "manifest.json" else "manifest.json"
    if description.startswith("package seal"):
        return "seal"
    return "ZIP"


def test_every_changed_byte_is_caught_and_named() -> None:
    """Every byte of every header, leaf and the seal; every 7th byte of larger members."""
    members, comment = read_stored_zip(PACKAGE, comment_size=SEAL_SIZE)
    rebuilt, regions = write_stored_zip(members, comment)
    assert rebuilt == PACKAGE
    assert regions[0].start == 0 and regions[-1].end == len(PACKAGE)
    assert all(a.end == b.start for a, b in zip(regions, regions[1:], strict=False))
    checked = set()
    for region in regions:
        subject = expected_subject(region.description)
        stride = 1 if region.end - region.start <= 600 else 7
        for position in range(region.start, region.end, stride):
            changed = bytearray(PACKAGE)
            changed[position] ^= 1 << (position % 8)
            verdict = verify_evidence_package(bytes(changed))
            assert not verdict.valid, (position, region.description)
            assert subject in verdict.problems[0], (position, region, verdict.problems)
            checked.add(region.description)
    assert checked == {region.description for region in regions}


def test_truncation_and_appending_are_caught() -> None:
    for archive in (PACKAGE[:-1], PACKAGE[1:], PACKAGE + b"\x00", b"", b"PK\x03\x04"):
        assert not verify_evidence_package(archive).valid


def reassemble(archive: bytes, edit_manifest: object = None, edit_leaf: object = None) -> bytes:
    """Forge a package that is consistent at the container level (re-sealed)."""
    members = dict(read_stored_zip(archive, comment_size=SEAL_SIZE)[0])
    manifest = parse_canonical_json(members[MANIFEST_NAME])
    assert isinstance(manifest, dict)
    manifest.pop("index_html_sha256")
    leaves = [(n, c) for n, c in members.items() if n.startswith("leaves/")]
    if callable(edit_leaf):
        leaves = [(n, edit_leaf(c)) for n, c in leaves]
        for entry, (_, content) in zip(manifest["leaves"], leaves, strict=True):
            entry["sha256"] = hashlib.sha256(content).hexdigest()
            entry["leaf_hash"] = leaf_hash(content).hex()
    if callable(edit_manifest):
        edit_manifest(manifest)
    files = [(n, c) for n, c in members.items() if n.startswith("files/")]
    return assemble_package(manifest, leaves, files, [parse_leaf(c) for _, c in leaves])


def test_resealed_package_with_changed_leaf_fails_its_inclusion_proof() -> None:
    def raise_payment(content: bytes) -> bytes:
        return content.replace(b'"amount_fen":40000', b'"amount_fen":4000')

    verdict = verify_evidence_package(reassemble(PACKAGE, edit_leaf=raise_payment))
    assert verdict.problems == [
        p for p in verdict.problems if "leaf #11" in p and "inclusion proof" in p
    ]
    assert len(verdict.problems) == 1


def test_resealed_package_with_changed_head_fails_the_signature() -> None:
    def grow(manifest: dict[str, object]) -> None:
        manifest["tree_head"]["tree_size"] += 1  # type: ignore[index]

    problems = verify_evidence_package(reassemble(PACKAGE, edit_manifest=grow)).problems
    assert any(p.startswith("signed tree head: log signature does not verify") for p in problems)
    assert any("witness" in p for p in problems)


def test_resealed_package_missing_a_file_names_it() -> None:
    digest = sorted(FIXTURE.files)[0]

    def drop(manifest: dict[str, object]) -> None:
        manifest["files"] = [f for f in manifest["files"] if f["sha256"] != digest]  # type: ignore[attr-defined]

    problems = verify_evidence_package(reassemble(PACKAGE, edit_manifest=drop)).problems
    assert any(digest in p and "not in the package" in p for p in problems)


def test_package_signed_by_another_key_needs_the_trusted_key_check() -> None:
    impostor = TreeHeadSigner.from_seed(b"\x66" * 32)
    keyring = Keyring()
    keyring.add(public_key_bytes(impostor.public_key))
    forged = FIXTURE.build(
        signed_head=impostor.sign(len(FIXTURE.hashes), root_hash(FIXTURE.hashes), NOW),
        keyring=keyring,
        witnesses=[],
    )
    assert verify_evidence_package(forged).valid
    verdict = verify_evidence_package(forged, trusted_key_ids=[FIXTURE.signer.key_id])
    assert verdict.problems == [
        f"signed tree head: key {impostor.key_id.hex()} is not one of the trusted keys given"
    ]
    assert verify_evidence_package(PACKAGE, trusted_key_ids=[FIXTURE.signer.key_id]).valid


def test_builder_refuses_inputs_that_would_not_verify() -> None:
    other_case = EvidenceLeaf(LeafKind.PAYMENT, 7, NOW, {"amount_fen": 1}).canonical_bytes()
    wrong_proof = PackagedLeaf(
        3, FIXTURE.leaves[0].canonical_bytes, FIXTURE.leaves[1].inclusion_proof
    )
    cases: list[tuple[dict[str, object], str]] = [
        ({"leaves": [*FIXTURE.leaves, PackagedLeaf(0, other_case, [])]}, "case 7"),
        ({"leaves": [wrong_proof, *FIXTURE.leaves[1:]]}, "inclusion proof"),
        ({"leaves": [FIXTURE.leaves[0], FIXTURE.leaves[0]]}, "twice"),
        ({"files": {}}, "missing"),
        ({"files": {**FIXTURE.files, hashlib.sha256(b"x").hexdigest(): b"x"}}, "not cited"),
        ({"files": {k: v + b"!" for k, v in FIXTURE.files.items()}}, "does not match"),
        ({"keyring": Keyring()}, "signed tree head"),
    ]
    for changes, message in cases:
        with pytest.raises(PackageError, match=message):
            FIXTURE.build(**changes)
    not_canonical = PackagedLeaf(3, FIXTURE.leaves[0].canonical_bytes + b" ", [])
    with pytest.raises(PackageError, match="leaf 3"):
        FIXTURE.build(leaves=[not_canonical])


def test_cli_exit_codes_and_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.zip"
    good.write_bytes(PACKAGE)
    assert main([str(good)]) == 0
    output = capsys.readouterr().out
    assert "VALID" in output and "有效" in output and FIXTURE.signer.key_id.hex() in output

    assert main([str(good), "--trusted-key", FIXTURE.signer.key_id.hex()]) == 0
    assert (
        main([str(good), "--trusted-key", public_key_bytes(FIXTURE.signer.public_key).hex()]) == 0
    )
    assert main([str(good), "--trusted-key", "00" * 8]) == 1
    capsys.readouterr()

    bad = tmp_path / "bad.zip"
    changed = bytearray(PACKAGE)
    changed[PACKAGE.index(b'"amount_fen":40000') + 14] ^= 0x01
    bad.write_bytes(bytes(changed))
    assert main([str(bad)]) == 1
    output = capsys.readouterr().out
    assert "INVALID" in output and "leaf #11" in output

    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    assert main([str(tmp_path / "junk.zip")]) == 1
    assert main([]) == 2
    assert main([str(tmp_path / "absent.zip")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main([str(good), "--trusted-key", "xyz"]) == 2


def test_verifier_imports_only_stdlib_cryptography_and_pure_evidence_modules() -> None:
    probe = (
        "import sys, debtflow.verify\n"
        "mods = [m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names]\n"
        "print('\\n'.join(sorted(mods)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    allowed_debtflow = {"debtflow", "debtflow.core", "debtflow.core.evidence", "debtflow.verify"}
    allowed_roots = {"cryptography", "_cffi_backend", "_openssl", "_distutils_hack", "__main__"}
    for module in result.stdout.split():
        if module.startswith("debtflow"):
            assert module in allowed_debtflow or module.startswith("debtflow.core.evidence."), (
                module
            )
            assert module != "debtflow.core.evidence.node_store"
        else:
            assert module.split(".")[0] in allowed_roots, module


def test_canonical_manifest_is_what_the_seal_covers() -> None:
    members, comment = read_stored_zip(PACKAGE, comment_size=SEAL_SIZE)
    manifest_bytes = dict(members)[MANIFEST_NAME]
    assert comment.endswith(hashlib.sha256(manifest_bytes).hexdigest().encode())
    assert canonical_json(parse_canonical_json(manifest_bytes)) == manifest_bytes


@settings(max_examples=200, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(PACKAGE) - 1), st.integers(0, 255)), min_size=1, max_size=6
    )
)
def test_random_multi_byte_damage_never_crashes_the_verifier(edits: list[tuple[int, int]]) -> None:
    changed = bytearray(PACKAGE)
    for position, value in edits:
        changed[position] = value
    verdict = verify_evidence_package(bytes(changed))
    assert verdict.valid == (bytes(changed) == PACKAGE)


class CountingBytes(bytes):
    """An archive that counts the bytes the reader copies out of it by slicing."""

    copied = 0

    def __getitem__(self, key):  # type: ignore[no-untyped-def, override]
        value = super().__getitem__(key)
        if isinstance(key, slice):
            type(self).copied += len(value)
        return value


def crafted_zip(entries: list[tuple[bytes, int]], member: bytes, gap: bytes = b"") -> bytes:
    """One stored member ``manifest.json`` and a central directory of ``entries`` — (name,
    local header offset) — all claiming that member's size: the shape of a ZIP bomb that
    points 65,535 directory entries at one large member."""
    name = MANIFEST_NAME.encode()
    crc = zlib.crc32(member)
    out = bytearray(
        _LOCAL.pack(0x04034B50, 20, 0, 0, 0, 33, crc, len(member), len(member), len(name), 0)
    )
    out += name + member + gap
    directory = bytearray()
    for entry_name, offset in entries:
        directory += _CENTRAL.pack(
            0x02014B50, 20, 20, 0, 0, 0, 33, crc, len(member), len(member), len(entry_name),
            0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        directory += entry_name
    start = len(out)
    out += directory
    out += _END.pack(0x06054B50, 0, 0, len(entries), len(entries), len(directory), start, 0)
    return bytes(out[:-2]) + struct.pack("<H", SEAL_SIZE) + b"x" * SEAL_SIZE


@pytest.mark.parametrize(
    ("count", "size", "message"),
    [
        # 1,000 directory entries naming the one 40 kB member: 40 MB if each were copied
        (1_000, 40_000, "entry of manifest.json altered (offset: its member does not start"),
        # more entries than the member area has room for local headers
        (2_000, 20_000, "record altered: 2000 entries cannot fit in the archive"),
        # the same member listed twice
        (2, 100, "entry of manifest.json altered (offset: its member does not start"),
    ],
)
def test_a_directory_pointing_many_entries_at_one_member_is_refused_before_copying(
    count: int, size: int, message: str
) -> None:
    archive = CountingBytes(crafted_zip([(MANIFEST_NAME.encode(), 0)] * count, b"\x00" * size))
    CountingBytes.copied = 0
    verdict = verify_evidence_package(archive)
    assert len(verdict.problems) == 1 and verdict.problems[0].startswith("ZIP ")
    assert message in verdict.problems[0]
    assert CountingBytes.copied <= len(archive)


def test_a_huge_entry_count_is_refused_from_the_end_record_alone() -> None:
    archive = CountingBytes(crafted_zip([(MANIFEST_NAME.encode(), 0)], b"\x00" * 100))
    # claim 65,535 entries in a 46-byte directory
    end = len(archive) - SEAL_SIZE - _END.size
    forged = CountingBytes(
        archive[:end]
        + struct.pack("<HH", 0xFFFF, 0xFFFF).join([archive[end : end + 8], archive[end + 12 :]])
    )
    CountingBytes.copied = 0
    with pytest.raises(ZipStructureError, match="cannot fit"):
        read_stored_zip(forged, comment_size=SEAL_SIZE)
    assert CountingBytes.copied <= len(forged)


def test_members_must_tile_the_archive_with_distinct_names() -> None:
    members, comment = read_stored_zip(PACKAGE, comment_size=SEAL_SIZE)
    twice, _ = write_stored_zip([*members, members[1]], comment)
    with pytest.raises(ZipStructureError, match="two members named index.html"):
        read_stored_zip(twice, comment_size=SEAL_SIZE)
    gap = crafted_zip([(MANIFEST_NAME.encode(), 0)], b"{}", gap=b"hidden")
    with pytest.raises(ZipStructureError, match="6 byte.s. before the central directory"):
        read_stored_zip(gap, comment_size=SEAL_SIZE)
    crafted = crafted_zip([(MANIFEST_NAME.encode(), 0)], b"{}")
    assert read_stored_zip(crafted, comment_size=SEAL_SIZE)[0] == [(MANIFEST_NAME, b"{}")]


def test_the_largest_directory_a_plain_zip_allows_gets_a_clean_verdict() -> None:
    """The reviewer's bomb: 65,535 entries naming one member (here a small one)."""
    archive = CountingBytes(crafted_zip([(MANIFEST_NAME.encode(), 0)] * 0xFFFF, b"\x00" * 20))
    CountingBytes.copied = 0
    verdict = verify_evidence_package(archive)
    assert verdict.problems == [
        "ZIP end-of-central-directory record altered: 65535 entries cannot fit in the archive"
    ]
    assert CountingBytes.copied <= len(archive)
