"""`processhealth import ...`: load exported data into the raw store, without calling an API."""

from __future__ import annotations

from pathlib import Path

import click

from processhealth import ui
from processhealth.cli_config import pass_config
from processhealth.config import Config
from processhealth.store import RawStore


@click.group("import")
def import_group() -> None:
    """Import exported data (a Slack export, a Jira JSON export) into the raw store."""


@import_group.command("slack-export")
@click.argument("path", type=click.Path(path_type=Path))
@pass_config
def slack_export(config: Config, path: Path) -> None:
    """Import a Slack workspace export: the .zip, or the folder it unpacks to.

    The [slack] channel choice and [privacy] apply as for `collect`; every file is checked before
    anything is written. Run `processhealth build` afterwards.
    """
    from collectors.slack_export import read_export, save_export

    export = read_export(path, config.slack)
    with RawStore.of(config) as store:
        count = save_export(export, store, config.privacy.store_message_text)
        kept = store.kept_newer
    ui.say(f"imported {count} Slack messages and replies from {len(export.conversations)} "
           f"conversations in {path}; run `processhealth build` next.")
    _say_kept_newer(kept, "messages, users or channels")


@import_group.command("jira-json")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_config
def jira_json(config: Config, paths: tuple[Path, ...]) -> None:
    """Import saved Jira search responses: one or many JSON files, or folders of them.

    Each file is a response of /rest/api/2/search or /search/jql, best saved with
    expand=changelog,names so transitions and custom field names come along. Every file is
    checked before anything is written. Run `processhealth build` afterwards.
    """
    from collectors.jira_import import check_ids, json_files, read_search_file, save_search_files
    from collectors.slack_rows import Rules

    files = [read_search_file(path) for path in json_files(list(paths))]
    check_ids(files)
    with RawStore.of(config) as store:
        counts = save_search_files(files, store, config.privacy.store_text_fields,
                                   Rules.from_config(config.slack,
                                                     declared=config.declared_experiments))
        kept = store.kept_newer
    ui.say(f"imported {counts['issues']} Jira issues ({counts['changed']} new or changed) from "
           f"{len(files)} files; run `processhealth build` next.")
    _say_kept_newer(kept, "issues")
    if counts["incomplete"]:
        ui.warn(f"{counts['incomplete']} issues carry a truncated changelog, comment or worklog "
                f"list (the saved search inlined only part of it); their history is incomplete.")


def _say_kept_newer(kept: int, what: str) -> None:
    """An import never replaces a newer version the store holds (RawStore.save, keep_newer)."""
    if kept:
        ui.say(f"{kept} {what} in these files are older than the versions the raw store holds "
               f"(a collection or import saw them later): the raw store keeps its versions.")
