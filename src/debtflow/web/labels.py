"""Template filters that word what the platform stores as codes or as its own English text.

An enum with a fixed set of values is worded in the templates with the catalog's group
(``_("state." ~ case.status.value)``, ``_("payment_channel." ~ p.channel)``); an unknown value
shows itself. These filters are for stored values that need taking apart first: a status
change's reason (``debtflow.core.case.reasons``) and the party a contact was made for. Each
uses the ``_`` of the page's context, so it speaks the page's language.
"""

from __future__ import annotations

from collections.abc import Callable

from jinja2 import pass_context
from jinja2.runtime import Context

from debtflow.core.case import reasons
from debtflow.core.money import fen_to_yuan


def _translate(context: Context) -> Callable[[str], str]:
    translate: Callable[[str], str] = context["_"]
    return translate


@pass_context
def status_reason(context: Context, reason: str | None) -> str:
    """A status change's reason in the page's language when the platform wrote it
    ("promise 69" → "承诺还款 #69"); a person's words as written."""
    found = reasons.read(reason)
    if found is None:
        return reason or ""
    parts = {
        name: fen_to_yuan(int(value)) if name in found.fen else value
        for name, value in found.parts.items()
    }
    text = _translate(context)(f"status_reason.{found.kind}")
    try:
        return text.format(**parts)
    except (KeyError, IndexError, ValueError):  # a catalog text with a field it lacks
        return reason or ""


@pass_context
def collecting_party(context: Context, party: str | None) -> str:
    """Who a contact was made for: ``in-house``, or ``<collector kind>:<code>`` (an agency,
    a law firm, a part-time collector), the kind worded and the code as it is."""
    if not party:
        return "—"
    translate = _translate(context)
    kind, colon, code = party.partition(":")
    if not colon:
        return translate(f"collecting_party.{party}")
    return f"{translate(f'collector_kind.{kind}')} {code}"
