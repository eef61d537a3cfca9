"""Management reports: the manager dashboard (figures, breakdowns, roll rates, charts)."""
