"""Organizations over time: the tree of Party organizations, effective-dated."""
