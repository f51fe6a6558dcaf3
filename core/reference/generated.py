"""The generated pages of the manual: each file and the registry function that writes it.

Each registry owns the function that renders it (beside the registry, so a change to one shows
in the other in the same diff); this list only says where the result goes. Adding a page is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from core.alerts.rules import rules_reference_markdown
from core.settings.documented import env_example, settings_reference_markdown
from core.webhooks.events import events_reference_markdown

# Paths relative to the repository's root.
GENERATED: tuple[tuple[str, Callable[[], str]], ...] = (
    ("docs/reference/settings.md", settings_reference_markdown),
    ("docs/reference/rules.md", rules_reference_markdown),
    ("docs/reference/events.md", events_reference_markdown),
    (".env.example", env_example),
)


def reference_stale(root: Path | None = None) -> list[str]:
    """The generated files whose content differs from what their generator writes."""
    root = root or Path(settings.BASE_DIR)
    stale = []
    for name, generate in GENERATED:
        path = root / name
        if not path.exists() or path.read_text() != generate():
            stale.append(name)
    return stale


def reference_write(root: Path | None = None) -> list[str]:
    """Writes every generated file; returns those it changed."""
    root = root or Path(settings.BASE_DIR)
    changed = []
    for name, generate in GENERATED:
        path = root / name
        text = generate()
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changed.append(name)
    return changed
