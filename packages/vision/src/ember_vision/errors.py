"""The error the command line turns into one line and exit status 2."""


class UsageError(Exception):
    """Bad input from the user (missing folder, one class, wrong weights file...)."""
