"""Internal political protection (bảo vệ chính trị nội bộ): encrypted vetting records, vetting role only."""
