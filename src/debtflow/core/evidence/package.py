"""Court-ready evidence packages: a deterministic ZIP that a third party verifies offline.

Layout (ZIP, every member stored uncompressed, fixed 1980-01-01 timestamps, no extra fields)::

    manifest.json                      canonical JSON: tree head, keys, leaves, proofs, files
    index.html                         readable index, zh-CN and English (rendered from the above)
    leaves/<index, 20 digits>.json     each leaf's canonical bytes, exactly as hashed in the log
    files/<sha256 hex>                 each attached file, named by its SHA-256

The ZIP comment is the *seal*: ``debtflow-evidence-package/1 manifest.json sha256=<hex>``.

Because the build is deterministic, the verifier re-serialises the members it read and
demands the identical bytes, so *every* byte of the archive is checked; failures are
reported by what they concern (a leaf, a file, the manifest, the signature, a ZIP header).

What makes the package trustworthy is cryptographic, not the seal: the log's Ed25519
signature over the tree head, the inclusion proof of every leaf against that head, and the
SHA-256 of every file inside the leaves. The seal only makes accidental and single-byte
damage point at the right member.

Only the standard library and ``cryptography`` are imported (the offline verifier uses this).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from debtflow.core.evidence.canonical import (
    CanonicalJsonError,
    canonical_json,
    format_timestamp,
    parse_canonical_json,
    parse_timestamp,
)
from debtflow.core.evidence.leaf import (
    LEAF_KIND_LABELS,
    EvidenceLeaf,
    LeafFormatError,
    is_sha256_hex,
    parse_leaf,
)
from debtflow.core.evidence.merkle import ProofError, leaf_hash, verify_inclusion
from debtflow.core.evidence.stored_zip import (
    ZipLimitError,
    ZipStructureError,
    read_stored_zip,
    write_stored_zip,
)
from debtflow.core.evidence.tree_head import (
    Keyring,
    KeyringEntry,
    SignedTreeHead,
    TreeHead,
    TreeHeadError,
    WitnessCosignature,
    verify_cosignature,
)

PACKAGE_FORMAT = "debtflow-evidence-package/1"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
SEAL_PREFIX = (PACKAGE_FORMAT + " " + MANIFEST_NAME + " sha256=").encode("ascii")
SEAL_SIZE = len(SEAL_PREFIX) + 64


class PackageError(ValueError):
    """The inputs cannot make a valid evidence package."""


@dataclass(frozen=True)
class PackagedLeaf:
    """One leaf to export: its index in the log, canonical bytes and audit path."""

    index: int
    canonical_bytes: bytes
    inclusion_proof: Sequence[bytes]


@dataclass(frozen=True)
class WitnessEvidence:
    """A witness co-signature together with the witness's raw public key."""

    public_key: bytes
    cosignature: WitnessCosignature


def leaf_member_name(index: int) -> str:
    return f"leaves/{index:020d}.json"


def file_member_name(digest: str) -> str:
    return f"files/{digest}"


# --- manifest and index ----------------------------------------------------------------------


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def render_index_html(manifest: Mapping[str, object], leaves: Sequence[EvidenceLeaf]) -> bytes:
    """The readable bilingual index, a pure function of the manifest and the parsed leaves."""
    head = _as_dict(manifest.get("tree_head"))
    entries = [_as_dict(item) for item in _as_list(manifest.get("leaves"))]
    files = [_as_dict(item) for item in _as_list(manifest.get("files"))]
    keys = [_as_dict(item) for item in _as_list(manifest.get("log_keys"))]
    witnesses = [_as_dict(item) for item in _as_list(manifest.get("witnesses"))]
    e = html.escape
    lines = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>证据包 Evidence package · 案件 case {e(str(manifest.get('case_id')))}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em;"
        "vertical-align:top}code{word-break:break-all}</style></head><body>",
        f"<h1>电子证据包 · Evidence package — 案件 Case {e(str(manifest.get('case_id')))}</h1>",
        f"<p>导出时间 Exported at: {e(str(manifest.get('exported_at')))}</p>",
        "<h2>如何核验 · How to verify</h2>",
        "<p>在任何装有 Python 与 <code>cryptography</code> 的电脑上离线运行 "
        "<code>debtflow-verify 本文件.zip</code>。它检查每条记录的默克尔包含证明、"
        "树头的 Ed25519 签名、每个附件的 SHA-256，以及压缩包的每一个字节。</p>",
        "<p>Run <code>debtflow-verify THIS-FILE.zip</code> offline on any computer with Python "
        "and <code>cryptography</code>. It checks every record's Merkle inclusion proof, the "
        "Ed25519 signature on the tree head, every attachment's SHA-256 and every byte of the "
        "archive. Compare the key id below with the one the collector publishes.</p>",
        "<h2>签名树头 · Signed tree head</h2><table>",
        f"<tr><th>日志大小 Tree size</th><td>{e(str(head.get('tree_size')))}</td></tr>",
        f"<tr><th>根哈希 Root hash</th><td><code>{e(str(head.get('root_hash')))}</code></td></tr>",
        f"<tr><th>签名时间 Signed at</th><td>{e(str(head.get('timestamp')))}</td></tr>",
        f"<tr><th>密钥 Key id</th><td><code>{e(str(head.get('key_id')))}</code></td></tr>",
        "</table>",
        "<h2>日志公钥 · Log public keys</h2><ul>",
    ]
    for key in keys:
        retired = key.get("retired_at") or "—"
        lines.append(
            f"<li><code>{e(str(key.get('key_id')))}</code>: "
            f"<code>{e(str(key.get('public_key')))}</code>"
            f" (停用 retired: {e(str(retired))})</li>"
        )
    lines.append("</ul>")
    if witnesses:
        lines.append("<h2>见证人联署 · Witness co-signatures</h2><ul>")
        for witness in witnesses:
            lines.append(f"<li><code>{e(str(witness.get('key_id')))}</code></li>")
        lines.append("</ul>")
    lines.append(f"<h2>记录 · Records ({len(leaves)})</h2><table>")
    lines.append(
        "<tr><th>序号 Index</th><th>类型 Kind</th><th>发生时间 Occurred at (UTC)</th>"
        "<th>内容 Payload</th><th>附件 Files</th><th>叶哈希 Leaf hash</th></tr>"
    )
    for entry, leaf in zip(entries, leaves, strict=False):
        zh, en = LEAF_KIND_LABELS[leaf.kind]
        payload = canonical_json(leaf.payload).decode("utf-8")
        attached = "<br>".join(
            f'<a href="{e(file_member_name(d))}"><code>{e(d)}</code></a>' for d in leaf.file_sha256
        )
        lines.append(
            f"<tr><td>{e(str(entry.get('index')))}</td><td>{e(zh)}<br>{e(en)}</td>"
            f"<td>{e(format_timestamp(leaf.occurred_at))}</td><td><code>{e(payload)}</code></td>"
            f"<td>{attached or '—'}</td><td><code>{e(str(entry.get('leaf_hash')))}</code></td></tr>"
        )
    lines.append("</table>")
    lines.append(f"<h2>附件 · Files ({len(files)})</h2><ul>")
    for item in files:
        lines.append(
            f'<li><a href="{e(str(item.get("path")))}">'
            f"<code>{e(str(item.get('sha256')))}</code></a>"
            f" — {e(str(item.get('size')))} 字节 bytes</li>"
        )
    lines.append("</ul></body></html>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _as_dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _seal(manifest_bytes: bytes) -> bytes:
    return SEAL_PREFIX + _sha256(manifest_bytes).encode("ascii")


def assemble_package(
    manifest: Mapping[str, object],
    leaves: Sequence[tuple[str, bytes]],
    files: Sequence[tuple[str, bytes]],
    parsed_leaves: Sequence[EvidenceLeaf],
) -> bytes:
    """Write manifest, index, leaves and files as the sealed deterministic ZIP.

    No checking happens here; :func:`build_evidence_package` is the checked entry point.
    """
    index_html = render_index_html(manifest, parsed_leaves)
    sealed = dict(manifest)
    sealed["index_html_sha256"] = _sha256(index_html)
    manifest_bytes = canonical_json(sealed)
    members = [(MANIFEST_NAME, manifest_bytes), (INDEX_NAME, index_html), *leaves, *files]
    try:
        archive, _ = write_stored_zip(members, _seal(manifest_bytes))
    except ZipLimitError as exc:
        raise PackageError(str(exc)) from None
    return archive


def _head_document(signed_head: SignedTreeHead) -> dict[str, object]:
    head = signed_head.head
    return {
        "key_id": head.key_id.hex(),
        "root_hash": head.root_hash.hex(),
        "signature": signed_head.signature.hex(),
        "timestamp": format_timestamp(head.timestamp),
        "tree_size": head.tree_size,
    }


def build_evidence_package(
    *,
    case_id: int,
    leaves: Sequence[PackagedLeaf],
    signed_head: SignedTreeHead,
    keyring: Keyring,
    files: Mapping[str, bytes],
    exported_at: datetime,
    witnesses: Sequence[WitnessEvidence] = (),
) -> bytes:
    """The ZIP bytes of an evidence package; raises :class:`PackageError` on any bad input.

    Every check the verifier makes is made here first, so a package that is built verifies.
    ``files`` maps SHA-256 hex to content and must hold exactly the files the leaves cite.
    """
    try:
        keyring.verify(signed_head)
        for witness in witnesses:
            verify_cosignature(signed_head, witness.cosignature, witness.public_key)
    except TreeHeadError as exc:
        raise PackageError(f"signed tree head: {exc}") from exc
    ordered = sorted(leaves, key=lambda item: item.index)
    indices = [item.index for item in ordered]
    if len(set(indices)) != len(indices):
        raise PackageError("a leaf index appears twice")
    head = signed_head.head
    parsed: list[EvidenceLeaf] = []
    leaf_entries: list[dict[str, object]] = []
    leaf_members: list[tuple[str, bytes]] = []
    cited: set[str] = set()
    for item in ordered:
        try:
            leaf = parse_leaf(item.canonical_bytes)
        except LeafFormatError as exc:
            raise PackageError(f"leaf {item.index}: {exc}") from exc
        if leaf.case_id != case_id:
            raise PackageError(f"leaf {item.index} belongs to case {leaf.case_id}, not {case_id}")
        hashed = leaf_hash(item.canonical_bytes)
        try:
            verify_inclusion(
                hashed, item.index, head.tree_size, list(item.inclusion_proof), head.root_hash
            )
        except ProofError as exc:
            raise PackageError(f"leaf {item.index}: inclusion proof: {exc}") from exc
        parsed.append(leaf)
        cited.update(leaf.file_sha256)
        name = leaf_member_name(item.index)
        leaf_members.append((name, item.canonical_bytes))
        leaf_entries.append(
            {
                "inclusion_proof": [element.hex() for element in item.inclusion_proof],
                "index": item.index,
                "leaf_hash": hashed.hex(),
                "path": name,
                "sha256": _sha256(item.canonical_bytes),
            }
        )
    if set(files) != cited:
        missing = sorted(cited - set(files))
        extra = sorted(set(files) - cited)
        raise PackageError(f"files do not match the leaves: missing {missing}, not cited {extra}")
    file_members: list[tuple[str, bytes]] = []
    file_entries: list[dict[str, object]] = []
    for digest in sorted(files):
        content = files[digest]
        if _sha256(content) != digest:
            raise PackageError(f"file {digest}: content does not match its SHA-256")
        file_members.append((file_member_name(digest), content))
        file_entries.append(
            {"path": file_member_name(digest), "sha256": digest, "size": len(content)}
        )
    manifest: dict[str, object] = {
        "case_id": case_id,
        "exported_at": format_timestamp(exported_at),
        "files": file_entries,
        "format": PACKAGE_FORMAT,
        "leaves": leaf_entries,
        "log_keys": [_key_document(entry) for entry in keyring.entries()],
        "tree_head": _head_document(signed_head),
        "witnesses": [
            {
                "key_id": witness.cosignature.witness_key_id.hex(),
                "public_key": witness.public_key.hex(),
                "signature": witness.cosignature.signature.hex(),
            }
            for witness in witnesses
        ],
    }
    return assemble_package(manifest, leaf_members, file_members, parsed)


def _key_document(entry: KeyringEntry) -> dict[str, object]:
    retired = None if entry.retired_at is None else format_timestamp(entry.retired_at)
    return {
        "key_id": entry.key_id.hex(),
        "public_key": entry.public_key.hex(),
        "retired_at": retired,
    }


# --- verification ----------------------------------------------------------------------------


@dataclass
class PackageVerdict:
    """What the verifier found. ``problems`` is empty exactly when the package is valid."""

    problems: list[str] = field(default_factory=list)
    case_id: int | None = None
    leaf_count: int = 0
    file_count: int = 0
    tree_size: int | None = None
    root_hash: str | None = None
    signed_at: str | None = None
    key_id: str | None = None
    witness_key_ids: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class _ManifestShapeError(ValueError):
    pass


def _need_int(document: Mapping[str, object], key: str) -> int:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ManifestShapeError(f"field {key!r} is missing or not an integer")
    return value


def _need_str(document: Mapping[str, object], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str):
        raise _ManifestShapeError(f"field {key!r} is missing or not a string")
    return value


def _need_objects(document: Mapping[str, object], key: str) -> list[dict[str, object]]:
    value = document.get(key)
    if not isinstance(value, list):
        raise _ManifestShapeError(f"field {key!r} is missing or not a list")
    return [_require_dict(item) for item in value]


def _hex_bytes(text: object, size: int | None, what: str) -> bytes:
    if not isinstance(text, str):
        raise _ManifestShapeError(f"{what} is not a hex string")
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise _ManifestShapeError(f"{what} is not valid hex") from None
    if value.hex() != text or (size is not None and len(value) != size):
        raise _ManifestShapeError(f"{what} is not {size} bytes of lowercase hex")
    return value


def _read_head(document: Mapping[str, object]) -> SignedTreeHead:
    head = TreeHead(
        tree_size=_need_int(document, "tree_size"),
        root_hash=_hex_bytes(document.get("root_hash"), 32, "tree head root_hash"),
        timestamp=parse_timestamp(_need_str(document, "timestamp")),
        key_id=_hex_bytes(document.get("key_id"), 8, "tree head key_id"),
    )
    return SignedTreeHead(head, _hex_bytes(document.get("signature"), 64, "tree head signature"))


def verify_evidence_package(
    archive: bytes, trusted_key_ids: Iterable[bytes] | None = None
) -> PackageVerdict:
    """Check every byte of a package offline. Never raises on bad input: see ``problems``.

    ``trusted_key_ids`` (8-byte key ids obtained independently, e.g. published by the
    collector) additionally require the tree head to be signed by one of those keys.
    """
    verdict = PackageVerdict()
    problems = verdict.problems
    try:
        members, comment = read_stored_zip(archive, comment_size=SEAL_SIZE)
    except ZipStructureError as exc:
        problems.append(str(exc))
        return verdict
    if not members or members[0][0] != MANIFEST_NAME:
        problems.append("manifest.json is missing or not the first member")
        return verdict
    manifest_bytes = members[0][1]
    if not comment.startswith(SEAL_PREFIX):
        problems.append("package seal (ZIP comment) altered")
        return verdict
    if comment != _seal(manifest_bytes):
        try:
            comment.decode("ascii")
            sealed_hex = comment[len(SEAL_PREFIX) :].decode("ascii")
        except UnicodeDecodeError:
            sealed_hex = ""
        if not is_sha256_hex(sealed_hex):
            problems.append("package seal (ZIP comment) altered")
        else:
            problems.append(
                "manifest.json altered: its SHA-256 does not match the package seal "
                "(or the seal in the ZIP comment was altered)"
            )
        return verdict
    try:
        _check_contents(manifest_bytes, members, verdict, trusted_key_ids)
    except (_ManifestShapeError, CanonicalJsonError, TreeHeadError) as exc:
        problems.append(f"manifest.json is malformed: {exc}")
        return verdict
    if not problems:
        rebuilt, regions = write_stored_zip(members, comment)
        if rebuilt != archive:
            offset = _first_difference(rebuilt, archive)
            where = next((r.description for r in regions if r.start <= offset < r.end), "ZIP")
            problems.append(f"{where} altered (byte {offset} differs from the canonical layout)")
    return verdict


def _first_difference(expected: bytes, actual: bytes) -> int:
    limit, step = min(len(expected), len(actual)), 1 << 16
    for start in range(0, limit, step):
        if expected[start : start + step] != actual[start : start + step]:
            return next(
                i for i in range(start, min(limit, start + step)) if expected[i] != actual[i]
            )
    return limit


def _check_contents(
    manifest_bytes: bytes,
    members: Sequence[tuple[str, bytes]],
    verdict: PackageVerdict,
    trusted_key_ids: Iterable[bytes] | None,
) -> None:
    problems = verdict.problems
    document = parse_canonical_json(manifest_bytes)
    if not isinstance(document, dict) or document.get("format") != PACKAGE_FORMAT:
        raise _ManifestShapeError(f"not a {PACKAGE_FORMAT} manifest")
    case_id = _need_int(document, "case_id")
    verdict.case_id = case_id
    signed_head = _read_head(_require_dict(document.get("tree_head")))
    head = signed_head.head
    verdict.tree_size = head.tree_size
    verdict.root_hash = head.root_hash.hex()
    verdict.signed_at = format_timestamp(head.timestamp)
    verdict.key_id = head.key_id.hex()
    parse_timestamp(_need_str(document, "exported_at"))

    keyring = Keyring()
    for key_doc in _need_objects(document, "log_keys"):
        public_key = _hex_bytes(key_doc.get("public_key"), 32, "log public key")
        retired_text = key_doc.get("retired_at")
        retired = None if retired_text is None else parse_timestamp(str(retired_text))
        key_id = keyring.add(public_key, retired_at=retired)
        if key_doc.get("key_id") != key_id.hex():
            problems.append(f"log key {key_doc.get('key_id')}: key id does not match the key")
    try:
        keyring.verify(signed_head)
    except TreeHeadError as exc:
        problems.append(f"signed tree head: {exc}")
    if trusted_key_ids is not None and head.key_id not in set(trusted_key_ids):
        problems.append(
            f"signed tree head: key {head.key_id.hex()} is not one of the trusted keys given"
        )
    for witness_doc in _need_objects(document, "witnesses"):
        witness_id = _hex_bytes(witness_doc.get("key_id"), 8, "witness key id")
        verdict.witness_key_ids.append(witness_id.hex())
        cosignature = WitnessCosignature(
            witness_id, _hex_bytes(witness_doc.get("signature"), 64, "witness signature")
        )
        try:
            verify_cosignature(
                signed_head,
                cosignature,
                _hex_bytes(witness_doc.get("public_key"), 32, "witness public key"),
            )
        except TreeHeadError as exc:
            problems.append(f"witness {witness_id.hex()}: {exc}")

    contents = dict(members)
    if len(contents) != len(members):
        problems.append("the ZIP holds two members with the same name")
    leaf_docs = _need_objects(document, "leaves")
    file_docs = _need_objects(document, "files")
    expected = [MANIFEST_NAME, INDEX_NAME]
    expected += [str(item.get("path")) for item in leaf_docs]
    expected += [str(item.get("path")) for item in file_docs]
    for name in sorted(set(contents) - set(expected)):
        problems.append(f"unexpected member {name} (not listed in manifest.json)")
    for name in expected:
        if name not in contents:
            problems.append(f"member {name} listed in manifest.json is missing")

    index_html = contents.get(INDEX_NAME, b"")
    if _sha256(index_html) != document.get("index_html_sha256"):
        problems.append("index.html altered: its SHA-256 does not match manifest.json")

    parsed: list[EvidenceLeaf] = []
    cited: set[str] = set()
    for position, item in enumerate(leaf_docs):
        index = _need_int(item, "index")
        name = str(item.get("path"))
        label = f"leaf #{index} ({name})"
        if name != leaf_member_name(index):
            problems.append(f"{label}: member name does not match its index")
        if position and index <= _need_int(leaf_docs[position - 1], "index"):
            problems.append(f"{label}: leaves are not in increasing index order")
        raw = contents.get(name)
        if raw is None:
            continue
        if _sha256(raw) != item.get("sha256"):
            problems.append(f"{label} altered: its bytes do not match manifest.json")
            continue
        try:
            leaf = parse_leaf(raw)
        except LeafFormatError as exc:
            problems.append(f"{label}: not a valid leaf: {exc}")
            continue
        if leaf.case_id != case_id:
            problems.append(f"{label}: belongs to case {leaf.case_id}, not {case_id}")
        hashed = leaf_hash(raw)
        if hashed.hex() != item.get("leaf_hash"):
            problems.append(f"{label}: leaf hash in manifest.json does not match the leaf")
        proof_doc = item.get("inclusion_proof")
        if not isinstance(proof_doc, list):
            raise _ManifestShapeError(f"{label}: inclusion_proof is not a list")
        proof = [_hex_bytes(x, 32, f"{label} proof hash") for x in proof_doc]
        try:
            verify_inclusion(hashed, index, head.tree_size, proof, head.root_hash)
        except ProofError as exc:
            problems.append(
                f"{label}: inclusion proof does not verify against the tree head: {exc}"
            )
        parsed.append(leaf)
        cited.update(leaf.file_sha256)
    verdict.leaf_count = len(leaf_docs)

    listed: set[str] = set()
    for item in file_docs:
        digest = str(item.get("sha256"))
        name = str(item.get("path"))
        listed.add(digest)
        if name != file_member_name(digest) or not is_sha256_hex(digest):
            problems.append(f"file entry {name}: path does not match its SHA-256")
        content = contents.get(name)
        if content is None:
            continue
        if _sha256(content) != digest:
            problems.append(f"attached file {name} altered: its SHA-256 no longer matches")
        elif item.get("size") != len(content):
            problems.append(f"attached file {name}: size in manifest.json is wrong")
    verdict.file_count = len(file_docs)
    for digest in sorted(cited - listed):
        problems.append(f"file {digest} cited by a leaf is not in the package")
    for digest in sorted(listed - cited):
        problems.append(f"file {digest} is in the package but cited by no leaf")

    if len(parsed) == len(leaf_docs) and not any(p.startswith("index.html") for p in problems):
        rendered = render_index_html(document, parsed)
        if rendered != index_html:
            problems.append("index.html does not match what manifest.json and the leaves say")


def _require_dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _ManifestShapeError("expected a JSON object")
    return value
