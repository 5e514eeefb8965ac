"""The window's privacy and security (issue 12): passphrase dialogs, the lock screen and auto-lock, the
audit trail of window actions and its viewer, export notices, and the "workspace in use" dialog.

Every workflow here calls the core (desktop/core/workspace/crypto.py, audit.py, deidentify.py) exactly
as the command line (desktop/cli_security.py) does; this package only asks and shows.
"""
