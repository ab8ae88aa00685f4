"""The documents' relative links resolve in a clone: nothing points outside the repository or at a
file that moved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) with a target that is not a URL or an in-page anchor.
LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file_in_the_repository(document: Path) -> None:
    targets = [t.split("#")[0] for t in LINK.findall(document.read_text())]
    assert targets or document.name != "README.md"  # the README links its design document at least
    for target in targets:
        path = (document.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{document.name} links outside the repository: {target}"
        assert path.exists(), f"{document.name} links to a missing file: {target}"


def test_the_readme_lists_the_payload_variables_as_the_code_defines_them() -> None:
    """The README's tables are the generated ones: a variable added or moved in templating.py and
    not in the README fails here, with the text to paste."""
    from mlhooks.templating import variables_meanings, variables_table

    readme = (ROOT / "README.md").read_text()
    for generated in (variables_meanings(), variables_table()):
        assert generated in readme, f"README.md should hold, as generated:\n{generated}"
