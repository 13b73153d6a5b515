"""Declarative plan and organisation files: parsing, validation and their typed specs."""
