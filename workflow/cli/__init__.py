"""The command-line adapter: parses, calls one service, renders. No rules live here."""
