"""Training's copies of cadres' cadres, posts, assignments and plans, kept from ``tochuc.cadres.*`` events."""
