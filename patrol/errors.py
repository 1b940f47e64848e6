"""Errors the CLI prints as one clear line instead of a traceback."""


class CommandError(Exception):
    """A problem the operator can fix: printed as one clear message, never a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
