"""Sub-commands of the lm-explorer CLI, one per module."""
