"""Posts (chức danh): positions that exist independently of who holds them."""
