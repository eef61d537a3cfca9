"""Pure computation: no SQLAlchemy, no FastAPI, tested without a database."""
