"""Screenshots of the admin page's main screens, for docs/screenshots/ and the README.

    python tools/screenshots.py [--out docs/screenshots]

Starts `callblock serve` on a new SQLite file, fills it through /v1 as a supervisor would (and
checks numbers through it, for the dashboard), then drives the page in headless Chromium
(tests/browser.py) and saves one PNG per screen. A check through /v1 is counted in the minute it
is made: the hour before it, for the dashboard's chart to have a shape, is written into the
store's counts directly.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from tests.browser import DESKTOP, PHONE, chromium, open_tab
from tests.servers import start_server, stop_server

from callblock.store import Store
from callblock.store.stats import LEVEL_SECONDS, CountRow, add_counts
from callblock.store.tables import accounts


def evening_hours() -> dict[str, object]:
    """Three hours of every day that open on the hour, at least two hours from now in India:
    a check made now is outside them, and says when they open."""
    india = ZoneInfo("Asia/Kolkata")
    opens = (datetime.now(india) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    closes = opens + timedelta(hours=3)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {"days": days, "start": f"{opens:%H:00}", "end": f"{closes:%H:00}"}


ALLOW_ATTACHED = {"kind": "allow", "scope": "attached"}


def fill_store(base_url: str, key: str) -> dict[str, int]:
    """A contact centre's lists and campaigns, through the public API."""
    ids: dict[str, int] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    in_a_month = (now + timedelta(days=30)).isoformat()
    in_18_months = (now + timedelta(days=548)).isoformat()
    with httpx.Client(base_url=base_url, auth=("demo", key), timeout=60) as api:
        for name, direction, description, traits in (
            ("Do not call", "outbound", "National DNC register", {"consent_overrides": True}),
            ("Abusive callers", "inbound", "Reported by agents", {}),
            ("Legal hold", "both", "Case 2026-114", {}),
            ("Customer consent", "outbound", "Bought in the last 18 months", ALLOW_ATTACHED),
            ("Renewals opt-outs", "outbound", "Asked renewals not to call", {"scope": "attached"}),
        ):
            group = {"name": name, "direction": direction, "description": description, **traits}
            answer = api.post("/v1/groups", json=group)
            ids[name] = answer.json()["id"]
        dnc = "".join(f"98{i:08d}\n" for i in range(12_480)).encode()
        api.post(f"/v1/groups/{ids['Do not call']}/numbers:import", content=dnc)
        api.post(
            f"/v1/groups/{ids['Abusive callers']}/numbers",
            json={
                "numbers": ["9876543210", "+44 20 7946 0958", "140*"],
                "note": "threatened agent",
            },
        )
        api.post(
            f"/v1/groups/{ids['Abusive callers']}/numbers",
            json={"numbers": ["9123456789"], "expires_at": in_a_month, "note": "30-day block"},
        )
        api.post(f"/v1/groups/{ids['Legal hold']}/numbers", json={"numbers": ["9812345678"]})
        api.post(
            f"/v1/groups/{ids['Customer consent']}/numbers",
            json={"numbers": ["9800000042", "9800000043"], "expires_at": in_18_months},
        )
        api.post(f"/v1/groups/{ids['Renewals opt-outs']}/numbers", json={"numbers": ["9800000043"]})
        consent, opt_outs = ids["Customer consent"], ids["Renewals opt-outs"]
        for name, description, window, attached in (
            (
                "Spring renewals",
                "Policies due in May",
                {
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                    "start": "09:00",
                    "end": "21:00",
                },
                [consent, opt_outs],
            ),
            ("Evening follow-ups", "Callbacks asked for", evening_hours(), [consent]),
            (
                "Collections",
                "",
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "10:00", "end": "18:00"},
                [],
            ),
        ):
            campaign = {
                "name": name,
                "description": description,
                "calling_window": window,
                "group_ids": attached,
            }
            ids[name] = api.post("/v1/campaigns", json=campaign).json()["id"]
        for label, scopes in (
            ("Dialer, floor 2", ["check"]),
            ("Supervisor scripts", ["write"]),
        ):
            api.post("/v1/keys", json={"label": label, "scopes": scopes})
        # A few minutes of a dialer's work: single checks, and a batch of a list to call.
        singles = ["9876543210"] * 6 + ["01401234567"] * 4 + ["9812345678"] * 3
        singles += ["+44 20 7946 0958"] * 2 + ["9000000000"] * 2 + ["9800000007"]
        singles += [f"97{i:08d}" for i in range(30)]
        for number in singles:
            api.get(f"/v1/check/{number}")
        to_call = [f"98{i:08d}" for i in range(12_000, 14_000, 10)]  # a quarter on the register
        api.post("/v1/check", json={"numbers": to_call, "direction": "outbound"})
    return ids


def past_hour_of_checks(database_url: str, ids: dict[str, int]) -> None:
    """The hour before now, as counted checks of the demo account: sixty to a hundred and
    twenty a minute, about one in six blocked, mostly by the register. Written into the
    store's counts as a server's flush adds them (each minute to its hour and its day too)."""
    spread = random.Random(2026)
    now = int(time.time()) // 60 * 60
    summed: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for back in range(1, 60):
        minute = now - back * 60
        checks = int(90 + 30 * math.sin(back / 8) + spread.randint(-10, 10))
        blocked = checks // 6 + spread.randint(-4, 4)
        abusive = spread.randint(0, 3)
        held = spread.randint(0, 1)
        matched = {ids["Do not call"]: blocked - abusive - held, ids["Abusive callers"]: abusive}
        matched[ids["Legal hold"]] = held
        for level, length in LEVEL_SECONDS.items():
            start = minute - minute % length
            every = summed[(level, start, 0)]
            every[0] += checks
            every[1] += blocked
            for group_id, times in matched.items():
                summed[(level, start, group_id)][3] += times
    store = Store.from_url(database_url)
    try:
        with store.write() as conn:
            account = select(accounts.c.id).where(accounts.c.username == "demo")
            account_id = conn.execute(account).scalar_one()
            rows = [
                CountRow(account_id, level, start, group_id, 0, *values)
                for (level, start, group_id), values in summed.items()
            ]
            add_counts(conn, rows)
    finally:
        store.dispose()


def quiet(page: Page) -> None:
    """No passing announcement in the picture."""
    page.evaluate("document.getElementById('status').textContent = ''")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{directory}/callblock.db"
        # Counts written every half second: the dashboard shows the checks at once.
        server = start_server(database_url, stats_flush_seconds="0.5")
        try:
            match = re.search(r"cbk_\S+", server.log.read_text())
            assert match is not None, "the first serve prints the demo key"
            key = match.group(0)
            ids = fill_store(server.url, key)
            past_hour_of_checks(database_url, ids)
            with chromium() as browser:
                shoot(browser, server.url, key, ids, out)
        finally:
            stop_server(server)


def shoot(browser: Browser, url: str, key: str, ids: dict[str, int], out: Path) -> None:
    with open_tab(browser, url, viewport=DESKTOP) as tab:
        page = tab.page
        page.goto(url + "/ui")
        page.get_by_label("Username").fill("demo")
        page.screenshot(path=out / "sign-in.png")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        # The first screen: the dashboard, once the checks made are counted and shown.
        top = page.get_by_role("table", name=re.compile("^Entries matched most"))
        expect(top).to_contain_text("+91 98765 43210", timeout=15_000)
        quiet(page)
        page.screenshot(path=out / "dashboard.png", full_page=True)

        page.get_by_role("link", name="Groups", exact=True).click()
        expect(page.get_by_role("link", name="Do not call")).to_be_visible()
        expect(page.locator("main td[data-label='Matched (24 h)']").first).not_to_have_text("…")
        page.screenshot(path=out / "groups.png", full_page=True)

        # A group opens on its entries; Add and Upload open on demand.
        page.goto(f"{url}/ui#/groups/{ids['Abusive callers']}")
        expect(page.locator("main tbody code.number").first).to_be_visible()  # not "Loading…"
        quiet(page)
        page.screenshot(path=out / "group.png")
        page.get_by_role("button", name="Add numbers").click()
        page.get_by_label("Numbers or prefixes").fill("9988776655\n12ab45\n+1 202 555 0143")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator(".rejected")).to_be_visible()
        page.get_by_role("button", name="Upload a file").click()
        page.get_by_label("CSV or text file").set_input_files(
            {
                "name": "complaints.csv",
                "mimeType": "text/csv",
                "buffer": b"phone,agent\n9811122233,asha\n98111x,ravi\n9811122244,asha\n",
            }
        )
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.get_by_text("Imported complaints.csv.")).to_be_visible()
        quiet(page)
        page.screenshot(path=out / "group-upload.png", full_page=True)
        page.get_by_role("button", name="Edit +91 98765 43210").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        page.screenshot(path=out / "entry-edit.png")
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

        page.get_by_role("link", name="Check").click()
        page.get_by_label("Phone number").fill("01401234567")
        page.get_by_role("button", name="Check").click()
        expect(page.locator(".verdict")).to_be_visible()
        quiet(page)
        page.screenshot(path=out / "check.png")

        page.get_by_role("link", name="Campaigns").click()
        expect(page.get_by_role("link", name="Spring renewals")).to_be_visible()
        page.screenshot(path=out / "campaigns.png", full_page=True)

        # On the registry, with consent that lifts it, outside the campaign's calling hours.
        page.goto(f"{url}/ui#/check?campaign={ids['Evening follow-ups']}")
        expect(page.get_by_label("Campaign")).to_have_value(str(ids["Evening follow-ups"]))
        page.get_by_label("Phone number").fill("+91 98000 00042")
        page.get_by_label("Call direction").select_option("outbound")
        page.get_by_role("button", name="Check").click()
        expect(page.locator(".verdict .next-callable")).to_be_visible()
        quiet(page)
        page.screenshot(path=out / "check-campaign.png")

        page.get_by_role("link", name="History").click()
        expect(page.locator("main tbody tr td").first).to_be_visible()
        page.screenshot(path=out / "history.png")

        page.get_by_role("link", name="Keys").click()
        expect(page.get_by_text("Dialer, floor 2")).to_be_visible()
        page.screenshot(path=out / "keys.png")

    with open_tab(browser, url, viewport=PHONE) as tab:
        page = tab.page
        page.goto(url + "/ui")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
        page.get_by_role("link", name="Groups", exact=True).click()
        expect(page.get_by_role("link", name="Do not call")).to_be_visible()
        expect(page.locator("main td[data-label='Matched (24 h)']").first).not_to_have_text("…")
        page.screenshot(path=out / "phone.png")
        page.goto(f"{url}/ui#/groups/{ids['Abusive callers']}")
        expect(page.locator("main tbody code.number").first).to_be_visible()  # not "Loading…"
        quiet(page)
        page.screenshot(path=out / "phone-group.png")
    for picture in sorted(out.glob("*.png")):
        print(picture)


if __name__ == "__main__":
    main()
