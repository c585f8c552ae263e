"""The two kinds of failure the CLI turns into a message and an exit code.

Raise these from anywhere; only `processhealth.cli` catches them. The message is one paragraph
that says where (file, key, source, repo, channel), what was expected and what was found.
"""


class UserError(Exception):
    """Bad configuration or input; the user can fix it. Exit code 1."""

    exit_code = 1


# What reading a value of an unexpected shape raises (a string where an object was expected, a
# number out of range): an import turns these into a UserError naming the file.
SHAPE_ERRORS = (TypeError, AttributeError, ValueError, KeyError, IndexError)


class SourceError(Exception):
    """A source (API, export file) failed or answered unexpectedly. Exit code 2."""

    exit_code = 2
