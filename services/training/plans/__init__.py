"""Annual training plans: a target number of cadres per year, organization and programme."""
