"""Generated bad input for the importer (issue 22): ``python -m devtools.badinput``."""
