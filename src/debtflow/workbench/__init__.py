"""The agent workbench: the queue in dispatch priority order and what the case page shows
and does (strategy in words, plan offers, suggested script, contacts through the gate)."""
