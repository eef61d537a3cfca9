"""Debtor-portal arithmetic: dated plan schedules, payment splits and agreement text."""
