"""``debtflow evidence``: court packages, audits, signed tree heads and key rotation.

Exit codes: 0 ok, 1 tampering found or failure, 2 usage error (3 database unreachable).
"""

from __future__ import annotations

from pathlib import Path

import typer

from debtflow.cli.common import console, domain_errors, echo_json, err_console, fail, transaction
from debtflow.core.evidence.tree_head import from_microseconds
from debtflow.evidence.audit import audit as run_audit
from debtflow.evidence.export import export_case
from debtflow.evidence.heads import (
    anchor_file,
    issue_tree_head,
    keyring,
    latest_head,
    rotate_signing_key,
    signing_key_file,
)
from debtflow.evidence.log import file_store

app = typer.Typer(
    help="Evidence chain: export court packages, audit the log, sign tree heads, rotate keys.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="The log's tree-head signing keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

_SHOWN_PROBLEMS = 50


@app.command("export")
@domain_errors
def export(
    case_id: int = typer.Argument(..., help="case id"),
    out: Path = typer.Option(..., "--out", help="where to write the package (.zip)"),
) -> None:
    """Write the evidence package of a case; verify it offline with `debtflow-verify`."""
    if out.exists() and out.is_dir():
        raise fail(f"{out} is a directory; give a file name such as case-{case_id}.zip", 2)
    if not out.parent.exists():
        raise fail(f"directory {out.parent} does not exist", 2)
    with transaction() as session:
        package = export_case(session, case_id=case_id)
    temporary = out.with_name(out.name + ".partial")
    temporary.write_bytes(package)
    temporary.replace(out)
    console.print(f"case {case_id}: evidence package written to {out} ({len(package):,} bytes)")
    console.print(f"verify it with: debtflow-verify {out}")


@app.command("audit")
@domain_errors
def audit(
    skip_files: bool = typer.Option(False, "--skip-files", help="do not re-hash stored files"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Recompute the tree from the stored leaves and check every row and signed head."""
    with transaction() as session:
        report = run_audit(session, files=None if skip_files else file_store())
    if as_json:
        echo_json(
            {
                "clean": report.clean,
                "tree_size": report.tree_size,
                "leaves_checked": report.leaves_checked,
                "nodes_checked": report.nodes_checked,
                "heads_checked": report.heads_checked,
                "files_checked": report.files_checked,
                "anchored_size": report.anchored_size,
                "problems": report.problems,
            }
        )
    else:
        console.print(
            f"evidence log: {report.tree_size:,} leaves; checked {report.leaves_checked:,} "
            f"leaves, {report.nodes_checked:,} nodes, {report.heads_checked:,} signed heads, "
            f"{report.files_checked:,} files"
        )
        if report.anchored_size is None:
            console.print(f"no tree head anchored outside the database yet ({anchor_file()})")
        else:
            console.print(
                f"measured against the tree head anchored at {anchor_file()} "
                f"(size {report.anchored_size:,})"
            )
    if report.clean:
        if not as_json:
            console.print("[green]audit clean: the log matches every signed tree head[/]")
        return
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        err_console.print(f"[red]TAMPERED[/] {problem}", highlight=False)
    if len(report.problems) > _SHOWN_PROBLEMS:
        err_console.print(f"… and {len(report.problems) - _SHOWN_PROBLEMS} more problems")
    raise fail(f"audit found {len(report.problems)} problem(s)", 1)


@app.command("head")
@domain_errors
def head() -> None:
    """Sign a tree head for the log as it is now."""
    with transaction() as session:
        issued = issue_tree_head(session)
    signed = issued.signed.head
    console.print(
        f"signed tree head #{issued.row.id}: size {signed.tree_size:,}, root "
        f"{signed.root_hash.hex()}, key {signed.key_id.hex()}, at "
        f"{signed.timestamp.isoformat()}"
    )


@keys_app.command("list")
@domain_errors
def list_keys() -> None:
    """Every key the log has signed with (public keys stay for verification)."""
    with transaction() as session:
        ring = keyring(session)
        last = latest_head(session)
    current = last.key_id if last is not None else None
    if not ring.entries():
        console.print("no signing key yet (one is created with the first tree head)")
    for entry in ring.entries():
        state = (f"retired {entry.retired_at.isoformat()}" if entry.retired_at else "active") + (
            ", signed the latest head" if entry.key_id == current else ""
        )
        console.print(f"{entry.key_id.hex()}  {entry.public_key.hex()}  {state}")
    if last is not None:
        console.print(
            f"latest head: size {last.tree_size:,} at "
            f"{from_microseconds(last.timestamp_us).isoformat()}"
        )


@keys_app.command("rotate")
@domain_errors
def rotate() -> None:
    """Sign a last head with the current key, retire it and switch to a new key."""
    with transaction() as session:
        old, new = rotate_signing_key(session)
    console.print(f"retired key {old.hex()}; now signing with {new.hex()} ({signing_key_file()})")
    console.print("publish the new key id so that recipients can check packages with --trusted-key")
