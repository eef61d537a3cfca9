"""The field app: visit requests, today's route, check-in on site, visit outcome, photos
and recordings (see ``docs/field-app.md``)."""
