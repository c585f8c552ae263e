"""The catalogue's README names only tests that exist, and the README's Guarantees point to it."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def test_every_test_the_catalogue_names_exists():
    text = (HERE / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"`((?:tests/)?test_[a-z_]+\.py)::(test_[a-z0-9_]+)`", text)
    assert len(named) > 40
    missing = []
    for file, test in named:
        path = ROOT / file if file.startswith("tests/") else HERE / file
        if not path.exists() or not re.search(rf"^def {test}\(", path.read_text(), re.M):
            missing.append(f"{file}::{test}")
    assert missing == []
    cases = re.findall(r"\[([a-z]+-[a-z_]+)\]", text)
    from .test_faults import CASES

    ids = {f"{source}-{fault.__name__}" for source, fault, _ in CASES}
    assert set(cases) - {"source-fault"} == ids


def test_the_guarantees_section_points_to_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Guarantees"):]
    assert "tests/reliability/README.md" in section
