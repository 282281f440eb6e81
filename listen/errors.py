"""The one exception tree. The CLI maps these to messages and exit codes."""

from __future__ import annotations


class ListenError(Exception):
    """Anything listen reports to the user in words rather than a traceback."""


class ConfigError(ListenError):
    """The config file is missing, unreadable or invalid. Carries every problem found."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: invalid configuration:\n{listed}" if problems else path)


class UsageError(ListenError):
    """The command line asks for something that is not there (a feed name, a database
    file) or cannot be done as asked. Exit 2, like click's own usage errors."""


class StorageError(ListenError):
    """The database cannot be opened, read or written."""


class FeedError(ListenError):
    """One feed could not be fetched or understood. Never stops the other feeds."""

    def __init__(self, feed: str, message: str):
        self.feed = feed
        self.message = message
        super().__init__(f"{feed}: {message}")


class NotFound(ListenError):
    """An item id given on the command line does not exist."""


class Busy(ListenError):
    """Another `listen pull` holds the pull lock."""
