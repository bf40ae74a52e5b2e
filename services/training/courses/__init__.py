"""Courses: classes of a programme, with their capacity."""
