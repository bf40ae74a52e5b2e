"""cadres' own copy of the organization tree, kept from orgs' events (and looked up once when unseen)."""
