"""planflow: an auditable workflow engine for provincial reform plans."""
