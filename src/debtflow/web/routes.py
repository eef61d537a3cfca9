"""Every route of the web platform besides the foundation's, in one router."""

from __future__ import annotations

from fastapi import APIRouter

from debtflow.auth import api as auth_api
from debtflow.auth import pages as auth_pages
from debtflow.compliance import api as compliance_api
from debtflow.contact import api as contact_api
from debtflow.conversation import api as conversation_api
from debtflow.evidence import api as evidence_api
from debtflow.field import api as field_api
from debtflow.field import pages as field_pages
from debtflow.note import api as note_api
from debtflow.portal import api as portal_api
from debtflow.portal import pages as portal_pages
from debtflow.report import api as report_api
from debtflow.report import pages as report_pages

router = APIRouter()
router.include_router(auth_api.router)
router.include_router(auth_pages.router)
router.include_router(portal_api.router)
router.include_router(portal_api.webhooks)
router.include_router(portal_pages.router)
router.include_router(conversation_api.router)
router.include_router(contact_api.router)
router.include_router(compliance_api.router)
router.include_router(evidence_api.router)
router.include_router(note_api.router)
router.include_router(report_api.router)
router.include_router(report_pages.router)
router.include_router(field_api.router)
router.include_router(field_pages.router)
