"""debtflow — an open-source O2O debt-collection platform."""

__version__ = "0.1.0"
