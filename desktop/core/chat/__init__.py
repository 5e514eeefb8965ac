"""The chat about a patient: patient context, conversations saved as they happen, turns, export, CLI."""
