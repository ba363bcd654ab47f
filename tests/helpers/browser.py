"""Headless Chromium for the tests that look at pages as a student's browser would: Debian's chromium, driven by
Playwright, and a guard that lets a page load from one local server only."""

from __future__ import annotations

import shutil
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium() -> str:
    """The path of Debian's chromium (never a browser Playwright downloads)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).exists(), "Debian's chromium is needed (apt-get install chromium); .ci/run installs it"
    return path


def keep_local(tab, served: str) -> list[str]:
    """Let ``tab`` load only from ``served`` (an ``http://127.0.0.1:PORT``); returns the list of what it refused."""
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(f"{served}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab.route("**/*", guard)
    return outside
