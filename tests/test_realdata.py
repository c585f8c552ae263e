"""The vendored real payloads (tests/fixtures) are the recorded ones, with their licences."""

from __future__ import annotations

from realdata import FIXTURES, SHARED, VENDORED, needs, realdata


def vendored_files() -> list[str]:
    """Paths (relative to tests/fixtures) of the vendored payloads: licences and README left out."""
    return sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file()
                  and not p.name.startswith("LICENSE") and p.name != "README.md")


def test_each_vendored_set_carries_its_mit_licence_and_source():
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted(VENDORED)
    for name in VENDORED:
        [licence] = (FIXTURES / name).glob("LICENSE*")
        text = licence.read_text(encoding="utf-8")
        assert "MIT" in text and "Permission is hereby granted, free of charge" in text
        assert f"`{name}/`" in readme and f"{licence.relative_to(FIXTURES)}" in readme
    assert {p.split("/", 1)[0] for p in vendored_files()} == set(VENDORED)


def test_vendored_sets_are_found_without_shared():
    assert realdata("github-octokit/scenarios").is_relative_to(FIXTURES)
    assert realdata("slack-perceval/tests/data/slack").is_relative_to(SHARED)


@needs(SHARED, "the recordings the vendored copies were taken from")
def test_vendored_files_equal_the_shared_recordings():
    files = vendored_files()
    assert len(files) == 22
    for relative in files:
        assert (FIXTURES / relative).read_bytes() == (SHARED / relative).read_bytes(), relative
