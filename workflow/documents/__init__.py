"""Documents people read (letters, reports), rendered in Vietnamese from plain fields."""
