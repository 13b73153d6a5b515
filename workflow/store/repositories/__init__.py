"""Writes: one repository per aggregate, each also reading what its use cases decide on."""
