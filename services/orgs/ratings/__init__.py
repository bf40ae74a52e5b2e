"""The quality of organizations: annual ratings and the threshold report (members, children, findings)."""
