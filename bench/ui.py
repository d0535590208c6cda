"""The admin page on a big group, in headless Chromium: how long each screen takes to show.

    python bench/ui.py [--engine sqlite|postgresql] [--entries 100000] [--rounds 5]

Starts `callblock serve` on a new database, imports N entries into one group through /v1, signs
in through the page, then times (from the click or the keystroke to the rows on screen): the
group's first page, the next page, a search, the status filter, and the list of groups. Each
figure is the median of the rounds. Not a test: nothing here passes or fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak import served
from playwright.sync_api import Page, expect
from tests.browser import chromium, open_tab


def timed(action: Callable[[], None], shown: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    shown()
    return time.perf_counter() - started


def says(page: Page, pager: str, text: str) -> Callable[[], None]:
    """Until a pager says `text` (its rows are drawn in the same step), looked at on every
    frame: Playwright's own waiting polls every 100 ms or more, too coarse for these."""
    script = """([label, text]) => document.querySelector(`nav[aria-label="${label}"] .position`)
        ?.textContent.includes(text)"""
    return lambda: page.wait_for_function(script, arg=[pager, text], polling="raf", timeout=60_000)


def position(page: Page, text: str) -> Callable[[], None]:
    return says(page, "Pages of entries", text)


def measure(page: Page, base: str, group_id: int, entries: int) -> dict[str, float]:
    total = f"{entries:,}"
    figures: dict[str, float] = {}
    figures["open the group (first page)"] = timed(
        lambda: page.goto(f"{base}/ui#/groups/{group_id}"), position(page, f"1\u2013100 of {total}")
    )
    figures["next page"] = timed(
        lambda: (
            page.get_by_role("navigation", name="Pages of entries", exact=True)
            .get_by_role("button", name="Next page")
            .click()
        ),
        position(page, f"101\u2013200 of {total}"),
    )
    last = f"+91700{entries - 1:07d}"
    search = page.get_by_label("Search")
    figures["search (typing to rows; 250 ms of it waits for the typing to stop)"] = timed(
        lambda: search.fill(last[3:]), position(page, "1\u20131 of 1")
    )
    search.fill("")
    position(page, f"1\u2013100 of {total}")()
    status = page.get_by_label("Status")
    figures["status filter: expired (none)"] = timed(
        lambda: status.select_option("expired"), position(page, "Nothing to show")
    )
    status.select_option("all")
    position(page, f"1\u2013100 of {total}")()
    figures["list of groups"] = timed(
        lambda: page.get_by_role("link", name="Groups", exact=True).click(),
        says(page, "Pages of groups", "1\u20131 of 1"),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as directory,
        served(args.engine, Path(directory), "bench") as server,
    ):
        rounds = run(server.urls[0], server.key, args.entries, args.rounds)
    print(f"admin page: engine={args.engine}, entries={args.entries:,}, rounds={args.rounds}")
    for name in rounds[0]:
        values = [r[name] * 1000 for r in rounds]
        print(f"  {name:<68} median {statistics.median(values):7.0f} ms  max {max(values):7.0f} ms")


def run(base: str, key: str, entries: int, rounds: int) -> list[dict[str, float]]:
    with httpx.Client(base_url=base, auth=("bench", key), timeout=300) as api:
        group_id = api.post("/v1/groups", json={"name": "Big list"}).json()["id"]
        body = "".join(f"+91700{i:07d}\n" for i in range(entries)).encode()
        answer = api.post(f"/v1/groups/{group_id}/numbers:import", content=body)
        answer.raise_for_status()
    results = []
    with chromium() as browser, open_tab(browser, base) as tab:
        page = tab.page
        page.goto(base + "/ui")
        page.get_by_label("Username").fill("bench")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
        for _ in range(rounds):
            results.append(measure(page, base, group_id, entries))
    return results


if __name__ == "__main__":
    main()
