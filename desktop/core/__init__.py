"""Everything that is not a widget. Must not import Qt (checked by import-linter in CI)."""
