"""The debtor portal, and the case history (accounts, payments, promises, contacts)
that both the portal and the agent's case page show."""
