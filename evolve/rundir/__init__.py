"""The run directory: its store (every file the parent writes), atomic writes, model keeper."""
