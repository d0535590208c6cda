"""Headless Chromium for the admin page's tests: Debian's browser, driven by Playwright."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    ViewportSize,
    sync_playwright,
)

from tests.conftest import skip_unless_ci

CHROMIUM = os.environ.get("CALLBLOCK_TEST_CHROMIUM", "/usr/bin/chromium")
# As the machine's notes say: without the background-networking flags Chromium keeps trying to
# reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return None
    return f"no Chromium at {CHROMIUM}: install Debian's `chromium` package (.ci/run does)"


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; the tests fail rather than skip without one when CI is set."""
    reason = chromium_missing()
    if reason is not None:
        skip_unless_ci(reason, "the browser tests")
    playwright: Playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@dataclass
class Tab:
    """A page in a fresh browser context (its own session storage), and what went wrong in
    it: uncaught script errors, and requests that left the server's origin."""

    page: Page
    context: BrowserContext
    origin: str
    script_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def open_tab(
    browser: Browser,
    origin: str,
    viewport: ViewportSize = DESKTOP,
    timezone_id: str | None = None,
) -> Iterator[Tab]:
    """``timezone_id``: the reader's time zone (an IANA name); the machine's without it."""
    context = browser.new_context(viewport=viewport, accept_downloads=True, timezone_id=timezone_id)
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = Tab(page, context, origin)
    page.on("pageerror", lambda error: tab.script_errors.append(str(error)))

    def seen(request: Request) -> None:
        url = request.url
        tab.requests.append(url)
        if not url.startswith((origin + "/", "data:", "blob:" + origin)):
            tab.foreign_requests.append(url)

    page.on("request", seen)
    try:
        yield tab
    finally:
        context.close()


# The rules of WCAG 2.1 at levels A and AA, as axe-core tags them.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                           resultTypes: ["violations"]});
  return results.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\\n` +
    v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\\n"));
}"""


@functools.cache
def _axe_script() -> str:
    """axe-core, as the `axe-playwright-python` package ships it (no download at run time)."""
    try:
        return (resources.files("axe_playwright_python") / "axe.min.js").read_text()
    except ModuleNotFoundError:
        skip_unless_ci(
            "axe-core is not installed: pip install -e '.[test]'", "the accessibility scans"
        )
        raise


def accessibility_violations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it is now, in words."""
    page.evaluate(_axe_script())
    found: list[str] = page.evaluate(_AXE_RUN, WCAG_21_AA)
    return found
