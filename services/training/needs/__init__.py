"""Training needs: cadres whose held or planned post needs a higher theory level than they attained."""
