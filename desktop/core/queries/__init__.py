"""Read-only questions the window, the CLI and the assistant ask of a workspace."""
