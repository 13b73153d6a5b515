"""planflow's benchmarks: the engine's cost against the database's own floor (issue 8).

Run them with `bench/run` (see bench/RESULTS.md); each benchmark writes one key of
results.json: {"figures": {...}, "target": "...", "met": true | false | null}.
"""
