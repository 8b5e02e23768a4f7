"""The one error type stages report: a place in a source file and a reason, printed as `file:line: reason`."""
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceError(Exception):
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class SourceErrors(Exception):
    """Several problems in one source file, each with its own line."""

    def __init__(self, errors):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)
