"""``debtflow-verify FILE.zip``: check a debtflow evidence package offline.

Needs only the Python standard library and ``cryptography``; it imports nothing from
debtflow but :mod:`debtflow.core.evidence` modules that obey the same rule.

Exit status: 0 the package is valid, 1 it is not (each problem is named), 2 usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence

from debtflow.core.evidence.package import PackageVerdict, verify_evidence_package
from debtflow.core.evidence.tree_head import key_id_of, load_public_key

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _parse_trusted_key(text: str) -> bytes:
    """A 16-hex-digit key id, or a 64-hex-digit raw Ed25519 public key (turned into its id)."""
    cleaned = text.strip().lower()
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not hexadecimal") from None
    if len(raw) == 8:
        return raw
    if len(raw) == 32:
        return key_id_of(load_public_key(raw))
    raise argparse.ArgumentTypeError(
        f"{text!r}: give a 16-hex-digit key id or a 64-hex-digit public key"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="debtflow-verify",
        description=(
            "核验 debtflow 电子证据包（离线）。Verify a debtflow evidence package offline: "
            "every record's Merkle inclusion proof, the signed tree head, every attached "
            "file and every byte of the archive."
        ),
    )
    parser.add_argument("package", help="the evidence package (.zip)")
    parser.add_argument(
        "--trusted-key",
        action="append",
        type=_parse_trusted_key,
        metavar="KEY",
        help=(
            "key id (16 hex digits) or public key (64 hex digits) obtained independently "
            "from the collector; the tree head must be signed by one of them (repeatable)"
        ),
    )
    return parser


def _print_report(name: str, archive: bytes, verdict: PackageVerdict, trusted: bool) -> None:
    print("debtflow-verify — 电子证据包核验 · evidence package verification")
    print(
        f"文件 File: {name} ({len(archive)} bytes, SHA-256 {hashlib.sha256(archive).hexdigest()})"
    )
    if verdict.case_id is not None:
        print(f"案件 Case: {verdict.case_id}")
        print(f"记录 Records: {verdict.leaf_count} · 附件 Files: {verdict.file_count}")
    if verdict.tree_size is not None:
        print(
            f"签名树头 Signed tree head: size {verdict.tree_size}, root {verdict.root_hash}, "
            f"signed at {verdict.signed_at}, key {verdict.key_id}"
        )
    if verdict.witness_key_ids:
        print(f"见证人 Witnesses: {', '.join(verdict.witness_key_ids)}")
    if verdict.valid:
        print(
            "结论 VERDICT: 有效 VALID — 每条记录都在已签名的日志中，每个字节都完好。 "
            "Every record is in the signed log and every byte is intact."
        )
        if not trusted:
            print(
                f"注意 Note: 请将密钥 {verdict.key_id} 与催收方公布的密钥核对（或使用 "
                f"--trusted-key）。 Compare key {verdict.key_id} with the key the collector "
                "publishes (or pass --trusted-key)."
            )
    else:
        print(f"结论 VERDICT: 无效 INVALID — {len(verdict.problems)} 个问题 problem(s):")
        for problem in verdict.problems:
            print(f"  - {problem}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``debtflow-verify``; returns the exit status."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        with open(arguments.package, "rb") as handle:
            archive = handle.read()
    except OSError as exc:
        print(f"debtflow-verify: cannot read {arguments.package}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    trusted = arguments.trusted_key
    try:
        verdict = verify_evidence_package(archive, trusted)
    except Exception as exc:  # a verifier bug must still give a verdict, not a traceback
        verdict = PackageVerdict(problems=[f"the package could not be read ({exc!r})"])
    _print_report(arguments.package, archive, verdict, trusted is not None)
    return EXIT_VALID if verdict.valid else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
