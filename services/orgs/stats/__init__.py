"""The orgs part of the sector report: documents, organizations, members and coverage over a period."""
