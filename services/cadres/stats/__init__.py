"""The cadres part of the sector report: personnel decisions, payroll streamlining, succession planning."""
