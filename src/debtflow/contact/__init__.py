"""Contacts with debtors and third parties: every one asked of the compliance gate first."""
