"""Every router of the web platform besides the foundation's."""

from __future__ import annotations

from fastapi import APIRouter

from debtflow.auth import api as auth_api
from debtflow.auth import pages as auth_pages
from debtflow.compliance import api as compliance_api
from debtflow.contact import api as contact_api
from debtflow.conversation import api as conversation_api
from debtflow.conversation import pages as conversation_pages
from debtflow.evidence import api as evidence_api
from debtflow.field import api as field_api
from debtflow.field import pages as field_pages
from debtflow.note import api as note_api
from debtflow.portal import api as portal_api
from debtflow.portal import pages as portal_pages
from debtflow.report import api as report_api
from debtflow.report import pages as report_pages

# In the order requests are matched against them (after the foundation's case routes).
ROUTERS: tuple[APIRouter, ...] = (
    auth_api.router,
    auth_pages.router,
    portal_api.router,
    portal_api.webhooks,
    portal_pages.router,
    conversation_api.router,
    conversation_pages.router,
    contact_api.router,
    compliance_api.router,
    evidence_api.router,
    note_api.router,
    report_api.router,
    report_pages.router,
    field_api.router,
    field_pages.router,
)
