"""Reads: what the pages, commands and reports show, kept apart from the writes."""
