"""Every relative link in README and the manual points at a file that exists, and every anchor at a
heading of that file, so moving or renaming a section breaks a test rather than a reader's click."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
COMMENT = re.compile(r"<!--.*?-->", re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
# [text](target) with text that may wrap a line; an image's ![alt](src) matches too.
LINK = re.compile(r"\[(?:[^\[\]]|\n)*?\]\(([^()\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#* *$", re.M)


def prose(markdown: str) -> str:
    """The text a reader sees as links: code blocks, code spans and comments taken out."""
    return CODE_SPAN.sub("", COMMENT.sub("", FENCE.sub("", markdown)))


def anchor_of(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", COMMENT.sub("", markdown))):
        anchor, suffix = anchor_of(heading), 0
        while (f"{anchor}-{suffix}" if suffix else anchor) in found:
            suffix += 1
        found.add(f"{anchor}-{suffix}" if suffix else anchor)
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(page.read_text()))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)  # http:, https:, mailto:
    ]


def test_anchor_of_follows_githubs_rules():
    assert anchor_of("Rules and their defaults") == "rules-and-their-defaults"
    assert anchor_of("API and access") == "api-and-access"
    assert anchor_of("`make docs`: the reference, re-run") == "make-docs-the-reference-re-run"
    assert anchors("# A\n## B\n## B\n```\n# not a heading\n```\n") == {"a", "b", "b-1"}


def test_relative_links_skips_urls_code_and_comments(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[a](a.md) [web](https://example.com) `[code](no.md)`\n<!-- [todo](later.md) -->\n"
        "```\n[fenced](no.md)\n```\n[wrapped\ntext](b.md#c)\n"
    )
    assert relative_links(page) == ["a.md", "b.md#c"]


def test_the_manual_has_pages_to_check():
    assert {page.name for page in PAGES} >= {"README.md", "contributing.md", "settings.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(ROOT)}")
        elif anchor and (destination.suffix != ".md" or anchor not in anchors(destination.read_text())):
            broken.append(f"{target}: no heading with the anchor #{anchor}")
    assert broken == [], f"{page.relative_to(ROOT)} links to what is not there"
