"""Payroll quotas (biên chế) per organization, year and category, and the streamlining rate over a subtree."""
