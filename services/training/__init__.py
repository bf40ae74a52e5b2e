"""The training service: programmes, courses, enrollments, attained theory levels, training needs, plans."""
