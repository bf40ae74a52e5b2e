"""A service's own copy of orgs' organization tree, kept from ``orgs.organization.*`` events.

Services that validate organization ids and scope queries by subtree without calling orgs (cadres, training)
include ``orgtree_metadata`` in their migrations' metadata, subscribe ``apply_org_event`` to
``ORG_EVENTS`` and keep an ``OrgDirectory`` in their lifespan (``app.state.org_directory``), through which an
unseen id is looked up once from orgs before it is refused.
"""
