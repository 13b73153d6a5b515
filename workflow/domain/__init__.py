"""Pure rules: no database, no Prefect, no logging. Tested without I/O."""
