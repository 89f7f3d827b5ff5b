"""The one error hierarchy of Dépêche; adapters catch `DepecheError` at their boundary."""

from __future__ import annotations

from dataclasses import dataclass


class DepecheError(Exception):
    """Base of every error we expect and can explain to a user (exit code 2 on the CLI)."""


@dataclass(frozen=True, slots=True)
class StoryIssue:
    """One problem found in a story file, located as precisely as we can."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        prefix = f"{where}:{field}" if where else field.strip()
        return f"{prefix} {self.message}" if prefix else self.message


class StoryError(DepecheError):
    """A story file is unreadable or invalid; carries every problem found, not only the first."""

    def __init__(self, issues: list[StoryIssue]) -> None:
        self.issues = issues
        count = len(issues)
        if count == 1:
            super().__init__(str(issues[0]))
        else:
            lines = "\n".join(f"  {issue}" for issue in issues)
            super().__init__(f"{count} errors in story file {issues[0].file}:\n{lines}")
