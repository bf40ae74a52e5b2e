"""Residential units (thôn, xóm, bản, khối, tổ dân phố) over time, and the coverage report."""
