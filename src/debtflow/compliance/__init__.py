"""The compliance gate on the database: decisions, overrides, restrictions, personal-data
views, QA sampling, retention and the compliance report."""
