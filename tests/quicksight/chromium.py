"""Headless Debian Chromium for the dashboard pages: load a page offline, let Vega render, read back the DOM."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# No network, no profile state, no GPU: what the CI container allows and what makes the run reproducible.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_MARK_ELEMENTS = {"path", "text", "line", "rect", "circle", "image"}


def dump_dom(page: Path, profile_dir: Path, *, budget_ms: int = 20000) -> str:
    """The page's DOM after scripts ran (virtual time: finishes as soon as the page is idle)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh (make test does)")
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile_dir}", f"--virtual-time-budget={budget_ms}",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-500:]}")
    return proc.stdout


class _Marks(HTMLParser):
    """Counts Vega mark items (SVG elements inside a ``g.role-mark`` group) per ``div[data-visual]``."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None, bool]] = []  # (tag, visual id, inside a mark group)
        self.marks: dict[str, int] = {}
        self.rendered: dict[str, bool] = {}
        self.body: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        visual, in_mark = (self.stack[-1][1], self.stack[-1][2]) if self.stack else (None, False)
        if tag == "body":
            self.body = {k: v or "" for k, v in attributes.items()}
        if tag == "div" and "data-visual" in attributes:
            visual = attributes["data-visual"]
            self.marks.setdefault(visual, 0)
            self.rendered[visual] = attributes.get("data-rendered") == "1"
        if visual and in_mark and tag in _MARK_ELEMENTS:
            self.marks[visual] += 1
        if tag == "g" and "role-mark" in (attributes.get("class") or "").split():
            in_mark = True
        if tag not in _VOID:
            self.stack.append((tag, visual, in_mark))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def rendered_marks(dom: str) -> tuple[dict[str, str], dict[str, bool], dict[str, int]]:
    """(body attributes, visual id -> embed finished, visual id -> mark items drawn)."""
    parser = _Marks()
    parser.feed(dom)
    return parser.body, parser.rendered, parser.marks
