"""Personnel actions: the competent committee's decisions about a cadre, and their effect on assignments."""
