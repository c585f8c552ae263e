from pathlib import Path

import click

from processhealth.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        names.append(full)
        if isinstance(command, click.Group):
            names += command_names(command, prefix=f"{full} ")
    return names


def test_every_command_is_in_the_readme():
    names = command_names(cli)
    assert {"init", "collect", "build", "doctor", "sql", "experiment add"} <= set(names)
    missing = [name for name in names if f"processhealth {name}" not in README]
    assert missing == [], f"document these commands in README.md: {missing}"


def test_every_command_has_help():
    def walk(group):
        for command in group.commands.values():
            yield command
            if isinstance(command, click.Group):
                yield from walk(command)

    assert [c.name for c in walk(cli) if not (c.help or "").strip()] == []
