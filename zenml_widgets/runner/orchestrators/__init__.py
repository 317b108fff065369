"""The orchestrators: what runs the steps of a run (one module each)."""
