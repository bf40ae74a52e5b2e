"""Enrollments: cadres sent to courses, their completion, failure or withdrawal, and their eligibility."""
