"""The two kinds of failure the CLI turns into a message and an exit code.

Raise these from anywhere; only `processhealth.cli` catches them. The message is one paragraph
that says where (file, key, source, repo, channel), what was expected and what was found.
"""


class UserError(Exception):
    """Bad configuration or input; the user can fix it. Exit code 1."""

    exit_code = 1


class SourceError(Exception):
    """A source (API, export file) failed or answered unexpectedly. Exit code 2."""

    exit_code = 2
