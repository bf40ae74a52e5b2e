"""Succession planning (quy hoạch): cadres planned for posts for a term, checked against the rulebook."""
