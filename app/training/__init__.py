"""Live training for the explorer's Train panel: a run is a process and a folder (docs/architecture.md)."""
