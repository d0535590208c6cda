"""The admin page at /ui, in headless Chromium against a real `callblock serve`, on each engine.

Every test signs in through the page as a new account of its own. A test fails on any uncaught
script error and on any request that leaves the server (the page must need no CDN).
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import create_engine, update

from callblock import rules
from callblock.service import Service
from callblock.store import Store
from callblock.store.tables import groups
from tests.browser import DESKTOP, PHONE, Tab, accessibility_violations, chromium, open_tab
from tests.conftest import ENGINES, fresh_database
from tests.helpers import Credentials
from tests.servers import Server, start_server, stop_server

pytestmark = [pytest.mark.server, pytest.mark.browser]


@dataclass
class Site:
    server: Server
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def new_account(self) -> Credentials:
        username = f"sup{uuid.uuid4().hex[:8]}"
        store = Store.from_url(self.database_url)
        try:
            return Credentials(username, Service(store).create_account(username).key)
        finally:
            store.dispose()

    def new_key(self, username: str) -> str:
        store = Store.from_url(self.database_url)
        try:
            return Service(store).issue_key(username).key
        finally:
            store.dispose()

    def revoke_keys(self, username: str) -> None:
        store = Store.from_url(self.database_url)
        try:
            service = Service(store)
            for key in service.keys(username):
                service.revoke_key(username, key.key_id)
        finally:
            store.dispose()

    def api(self, account: Credentials) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(account.username, account.key), timeout=60)


def api_for(site: Site, account: Credentials) -> httpx.Client:
    """A client with a key of the account that still works (the fixture's may be revoked)."""
    return site.api(Credentials(account.username, site.new_key(account.username)))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module", params=ENGINES)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with fresh_database(request, request.param, tmp_path_factory.mktemp("web")) as url:
        # Counts of checks written every half second: the dashboard shows them within one.
        server = start_server(url, stats_flush_seconds="0.5")
        try:
            yield Site(server, url)
        finally:
            stop_server(server)


@pytest.fixture
def account(site: Site) -> Credentials:
    return site.new_account()


@pytest.fixture
def tab(browser: Browser, site: Site) -> Iterator[Tab]:
    with open_tab(browser, site.url) as opened:
        yield opened
        assert opened.script_errors == []
        assert opened.foreign_requests == []


@pytest.fixture
def api(site: Site, account: Credentials) -> Iterator[httpx.Client]:
    with site.api(account) as client:
        yield client


def sign_in(tab: Tab, account: Credentials) -> Page:
    """Signed in through the page's form, on the screen it lands on: the dashboard."""
    page = tab.page
    page.goto(tab.origin + "/ui")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("API key").fill(account.key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    return page


def open_groups(tab: Tab, account: Credentials) -> Page:
    """Signed in, on the list of groups (through the navigation)."""
    page = sign_in(tab, account)
    page.get_by_role("link", name="Groups", exact=True).click()
    expect(page.get_by_role("heading", name="Groups", level=1)).to_be_visible()
    return page


def open_group(tab: Tab, account: Credentials, group_id: int) -> Page:
    """Signed in, on the group's page."""
    page = sign_in(tab, account)
    page.goto(f"{tab.origin}/ui#/groups/{group_id}")
    return page


def open_panel(page: Page, opener: str) -> None:
    """Open the group page's Add or Upload panel (a group's page opens on its entries)."""
    toggle = page.get_by_role("button", name=opener, exact=True)
    for _ in range(3):  # a click on a view being drawn anew is lost with it: once more
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        try:
            expect(toggle).to_have_attribute("aria-expanded", "true", timeout=2_000)
            return
        except AssertionError:
            continue
    expect(toggle).to_have_attribute("aria-expanded", "true")


def create_group(page: Page, name: str, direction: str = "both") -> int:
    """Through the page's form; the new group's id, from the address it lands on."""
    page.goto(page.url.split("#")[0] + "#/groups")
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Direction").select_option(direction)
    dialog.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    match = re.search(r"#/groups/(\d+)$", page.url)
    assert match is not None
    return int(match.group(1))


def make_group(api: httpx.Client, name: str, direction: str = "both", **traits: object) -> int:
    """A group through /v1; ``traits``: kind, scope, consent_overrides."""
    answer = api.post("/v1/groups", json={"name": name, "direction": direction, **traits})
    assert answer.status_code == 201, answer.text
    group_id: int = answer.json()["id"]
    return group_id


def make_campaign(
    api: httpx.Client, name: str, window: dict[str, object] | None, group_ids: list[int]
) -> int:
    answer = api.post(
        "/v1/campaigns", json={"name": name, "calling_window": window, "group_ids": group_ids}
    )
    assert answer.status_code == 201, answer.text
    campaign_id: int = answer.json()["id"]
    return campaign_id


INDIA = ZoneInfo("Asia/Kolkata")  # no daylight saving: each wall time there is one instant


def window_opening_in_two_hours() -> tuple[dict[str, object], datetime]:
    """Calling hours of every day, an hour long, that open two hours from now (to the minute)
    in India: the server's clock is the real one, so an Indian number checked within the
    next two hours is outside them, and the next callable time is the opening, in UTC."""
    opens = (datetime.now(INDIA) + timedelta(hours=2)).replace(second=0, microsecond=0)
    closes = opens + timedelta(hours=1)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    window = {"days": days, "start": f"{opens:%H:%M}", "end": f"{closes:%H:%M}"}
    return window, opens.astimezone(UTC)


def entries_of(api: httpx.Client, group_id: int) -> dict[str, dict[str, object]]:
    answer = api.get(f"/v1/groups/{group_id}/numbers", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    return {entry["number"]: entry for entry in answer.json()["data"]}


def showing(first: str, last: str, total: str) -> str:
    """A pager's position as the page writes it, with an en dash between first and last."""
    return f"{first}\u2013{last} of {total}"


def every_day_hours(window: dict[str, str]) -> str:
    """Every-day calling hours as the page writes them (format.js, describeWindow), from the
    window as the API keeps it: an end at midnight is 24:00, and an end earlier than the start
    runs into the next day (which of the two a test's window is depends on the time it runs)."""
    start, end = window["start"], window["end"]
    overnight = " (into the next day)" if end != "24:00" and end < start else ""
    return f"Every day {start}\u2013{end}{overnight}"


def dashed(text: str) -> str:
    """Calling hours as the page writes them, with en dashes: dashed("Mon-Fri 10:00-19:00")."""
    return text.replace("-", "\u2013")


def table_column(page: Page, label: str) -> list[str]:
    """The cells of one column of the main table on screen, in order."""
    cells = page.locator(f"main table.list tbody [data-label='{label}']")
    return [text.strip() for text in cells.all_inner_texts()]


def spaced(e164: str) -> str:
    """A number's international form, as libphonenumber spaces it: +91 98765 43210."""
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def numbers_listed(page: Page) -> list[str]:
    """The entries' numbers in the group's table on screen, in order, as it shows them."""
    return page.locator("main table.list tbody code.number").all_inner_texts()


# --- served files, without a browser -----------------------------------------------------------


def test_page_and_its_files_come_from_the_package_with_a_strict_policy(site: Site) -> None:
    page = httpx.get(site.url + "/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "form-action 'none'" in policy  # a sign-in form never submits itself into a URL
    referenced = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', page.text)
    assert "/ui/assets/app.js" in referenced
    assert "/ui/assets/app.css" in referenced
    # Every module the scripts import, followed from app.js: each must be served.
    pending, served = list(referenced), set()
    while pending:
        path = pending.pop()
        if path in served:
            continue
        answer = httpx.get(site.url + path)
        assert answer.status_code == 200, path
        served.add(path)
        if path.endswith(".js"):
            assert answer.headers["content-type"].startswith("text/javascript")
            base = path.rsplit("/", 1)[0]
            for target in re.findall(r'from "(\.{1,2}/[^"]+)"', answer.text):
                pending.append(_join(base, target))
    assert len([p for p in served if p.endswith(".js")]) >= 8
    # uPlot, which draws the dashboard's charts, is one of them, shipped with its licence.
    assert {
        "/ui/assets/vendor/uplot/uPlot.esm.js",
        "/ui/assets/vendor/uplot/uPlot.min.css",
    } <= served
    licence = httpx.get(site.url + "/ui/assets/vendor/uplot/LICENSE")
    assert licence.status_code == 200
    assert licence.headers["content-type"] == "text/plain; charset=utf-8"
    assert "The MIT License" in licence.text
    etag = httpx.get(site.url + "/ui/assets/app.js").headers["etag"]
    assert (
        httpx.get(site.url + "/ui/assets/app.js", headers={"If-None-Match": etag}).status_code
        == 304
    )


def _join(base: str, relative: str) -> str:
    parts = base.split("/")
    for piece in relative.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def test_the_server_root_leads_to_the_page_and_unknown_files_are_404(site: Site) -> None:
    root = httpx.get(site.url + "/")
    assert root.status_code == 307
    assert root.headers["location"] == "/ui"
    for path in ("/ui/assets/missing.js", "/ui/assets/index.html", "/ui/assets/../routes.py"):
        answer = httpx.get(site.url + path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_api_documents_render_with_nothing_from_another_origin(
    browser: Browser, site: Site
) -> None:
    """/docs and /redoc on a network without internet: every file they load is this
    server's, and what a distribution would fetch from elsewhere (ReDoc's sidebar logo) is
    stopped in the browser by the page's policy, never sent."""
    document = httpx.get(site.url + "/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    with open_tab(browser, site.url) as tab:
        stopped: list[str] = []
        tab.page.on(
            "requestfailed",
            lambda request: stopped.append(request.url) if request.failure == "csp" else None,
        )
        page = tab.page
        page.goto(tab.origin + "/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        expect(page.locator(".opblock")).to_have_count(operations)
        expect(page.locator(".opblock-summary-path", has_text="/v1/groups").first).to_be_visible()
        # "Try it out" reaches the server under the page's policy (no credentials: a 401).
        page.locator("#operations-groups-listGroups").click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        expect(page.locator(".live-responses-table tbody .response-col_status")).to_have_text(
            re.compile("401")
        )
        assert tab.foreign_requests == []
        page.goto(tab.origin + "/redoc")
        expect(page.get_by_role("heading", name="Create a group").first).to_be_visible()
        assert [url for url in tab.foreign_requests if url not in stopped] == []
        assert tab.script_errors == []
        assert any(url.endswith("/openapi.json") for url in tab.requests)


def test_a_script_gets_a_401_without_a_basic_challenge(site: Site) -> None:
    """Browsers open their own password dialog on a Basic challenge, over the page."""
    wrong = ("nobody-" + uuid.uuid4().hex[:6], "cbk_wrong")
    plain = httpx.get(site.url + "/v1/account", auth=wrong)
    assert plain.status_code == 401
    assert "Basic" in plain.headers["www-authenticate"]
    scripted = httpx.get(
        site.url + "/v1/account", auth=wrong, headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert scripted.status_code == 401
    assert scripted.headers["www-authenticate"] == 'Bearer realm="callblock"'


# --- signing in and out ------------------------------------------------------------------------


def test_sign_in_refuses_a_wrong_key_then_keeps_the_key_in_the_tab_only(
    tab: Tab, account: Credentials
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui#/groups")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Type your username.")).to_be_visible()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("API key").fill("cbk_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Wrong username or API key"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("API key").fill(account.key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Groups", level=1)).to_be_visible()
    expect(page.get_by_text(f"Signed in as {account.username}")).to_be_visible()
    stored = page.evaluate("JSON.stringify(sessionStorage)")
    assert account.key in stored
    assert page.evaluate("document.cookie") == ""
    assert tab.context.cookies() == []
    assert page.evaluate("JSON.stringify(localStorage)") == "{}"
    assert not any(account.key in url for url in tab.requests)
    # Another tab is another session: it must sign in for itself.
    other = tab.context.new_page()
    other.goto(tab.origin + "/ui#/groups")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    other.close()


def test_sign_out_forgets_the_key(tab: Tab, account: Credentials) -> None:
    page = sign_in(tab, account)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(tab.origin + "/ui#/history")
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


def test_a_revoked_key_asks_to_sign_in_again_and_keeps_what_was_typed(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Kept")
    page = open_group(tab, account, group_id)
    typed = "9811111111\n9811111112"
    open_panel(page, "Add numbers")
    page.get_by_label("Numbers or prefixes").fill(typed)
    site.revoke_keys(account.username)
    time.sleep(1.2)  # other processes stop accepting a revoked key within a second
    page.get_by_role("button", name="Add", exact=True).click()
    again = page.get_by_role("dialog", name="Sign in again")
    expect(again).to_contain_text("no longer accepts your API key")
    expect(again.get_by_label("Username")).to_have_value(account.username)
    expect(page.get_by_label("Numbers or prefixes")).to_have_value(typed)
    assert page.evaluate("sessionStorage.length") == 0
    again.get_by_label("API key").fill(account.key)  # the revoked one: refused
    again.get_by_role("button", name="Sign in").click()
    expect(again.get_by_role("alert")).to_have_text("Wrong username or API key.")

    again.get_by_label("API key").fill(site.new_key(account.username))
    again.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_label("Numbers or prefixes")).to_have_value(typed)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added 2, updated 0.")).to_be_visible()
    with api_for(site, account) as fresh:
        assert set(entries_of(fresh, group_id)) == {"+919811111111", "+919811111112"}


def test_giving_up_on_signing_in_again_signs_out(
    tab: Tab, site: Site, account: Credentials
) -> None:
    page = sign_in(tab, account)
    site.revoke_keys(account.username)
    time.sleep(1.2)
    page.get_by_role("link", name="History").click()
    again = page.get_by_role("dialog", name="Sign in again")
    page.keyboard.press("Escape")  # not a way out: sign in, or sign out
    expect(again).to_be_visible()
    again.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_signing_out_signs_out_the_tabs_opened_from_this_one(
    tab: Tab, site: Site, account: Credentials
) -> None:
    page = sign_in(tab, account)
    with tab.context.expect_page() as opened:
        page.evaluate("window.open(location.href)")
    other = opened.value
    expect(other.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # A tab of the same browser signed in as someone else is not theirs to sign out.
    stranger_account = site.new_account()
    stranger = tab.context.new_page()
    stranger.goto(tab.origin + "/ui")
    stranger.get_by_label("Username").fill(stranger_account.username)
    stranger.get_by_label("API key").fill(stranger_account.key)
    stranger.get_by_role("button", name="Sign in").click()
    expect(stranger.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(other.get_by_text("You signed out in another tab.")).to_be_visible()
    assert other.evaluate("sessionStorage.length") == 0
    stranger.wait_for_timeout(300)  # a sign-out reaching it would have come with the other's
    expect(stranger.get_by_text(f"Signed in as {stranger_account.username}")).to_be_visible()
    assert stranger.evaluate("sessionStorage.length") == 1


def test_failed_sign_ins_by_others_do_not_stop_a_signed_in_page(
    tab: Tab, account: Credentials
) -> None:
    page = sign_in(tab, account)
    time.sleep(1.1)  # past the second in which the server takes a key it just checked
    # Someone elsewhere guesses keys for this username until it is locked out.
    guesser = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=guesser, base_url=tab.origin) as other:
        statuses = [
            other.get("/v1/account", auth=(account.username, f"cbk_guess{i}")).status_code
            for i in range(12)
        ]
        assert statuses[-1] == 429
        right_key = other.get("/v1/account", auth=(account.username, account.key))
        assert right_key.status_code == 429  # Basic for this username: locked out
    page.get_by_role("link", name="History").click()
    expect(page.locator("main tbody tr td").first).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


# --- the supervisor's day ----------------------------------------------------------------------


def test_sign_in_create_add_flag_upload_check_delete_sign_out(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    page = sign_in(tab, account)
    group_id = create_group(page, "Abusive callers", direction="inbound")

    open_panel(page, "Add numbers")
    numbers = page.get_by_label("Numbers or prefixes")
    numbers.fill("9876543210\n12ab45\n+44 20 7946 0958, 140*")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added 3, updated 0.")).to_be_visible()
    # The invalid one stays in the box, its reason beside it; the valid ones went in.
    expect(numbers).to_have_value("12ab45")
    expect(numbers).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".rejected")).to_have_text(
        re.compile(r"12ab45\s+—\s+not a valid phone number")
    )
    assert set(entries_of(api, group_id)) == {"+919876543210", "+442079460958", "+91140*"}
    expect(page.locator("main table.list tbody tr")).to_have_count(3)

    # Upload: progress while it goes up (the upload slowed to be seen), then a summary.
    rows = (
        "phone\n" + "".join(f"98110{i:05d}\n" for i in range(20_000)) + "not-a-number\n9876543210\n"
    )
    cdp = tab.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 150_000},
    )
    page.evaluate(
        """() => { window.progressSeen = []; const label = document.querySelector('.progress span');
        new MutationObserver(() => window.progressSeen.push(label.textContent))
          .observe(label, {childList: true, characterData: true, subtree: true}); }"""
    )
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "abusers.csv", "mimeType": "text/csv", "buffer": rows.encode()}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("Imported abusers.csv.")).to_be_visible(timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    seen = page.evaluate("window.progressSeen")
    percents = [int(m.group(1)) for text in seen if (m := re.match(r"Uploading: (\d+)%", text))]
    assert len(percents) >= 3, seen
    assert percents == sorted(percents), seen
    assert percents[-1] == 100, seen
    assert "Uploaded. The server is reading the file…" in seen
    summary = page.locator(".upload-result")
    for label, value in (("Added", "20,000"), ("Updated", "1"), ("Invalid lines", "1")):
        expect(summary.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
    expect(summary.locator("tbody tr")).to_have_count(1)
    expect(summary.locator("tbody tr td").first).to_have_text("20,002")
    expect(summary.locator("tbody")).to_contain_text("not-a-number")
    expect(summary).to_contain_text("Line 1 was read as column names, not imported: phone")
    expect(page.locator(".facts dt:text-is('Active') + dd")).to_have_text(
        "20,003"
    )  # active, in the header

    page.get_by_role("link", name="Check").click()
    page.get_by_label("Phone number").fill("01401234567")
    page.get_by_label("Call direction").select_option("inbound")
    page.get_by_role("button", name="Check").click()
    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text("Blocked")
    expect(verdict).to_contain_text("+911401234567")
    expect(verdict.get_by_role("link", name="Abusive callers")).to_be_visible()
    expect(verdict).to_contain_text("+91140*")
    expect(verdict).to_contain_text("Prefix")

    verdict.get_by_role("link", name="Abusive callers").click()
    page.get_by_role("button", name="Delete group").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("20,003 entries will be deleted")
    dialog.get_by_role("button", name="Delete group").click()
    expect(page.get_by_role("heading", name="Groups", level=1)).to_be_visible()
    expect(page.get_by_text("No groups yet: create one with New group.")).to_be_visible()
    assert api.get(f"/v1/groups/{group_id}").status_code == 404

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_the_forms_state_the_servers_own_limits(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    """The hints and bounds come from ``GET /v1/limits`` (``callblock.rules``), not a copy."""
    group_id = make_group(api, "Limits")
    page = open_groups(tab, account)
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    name_rule = rules.NAME_RULE[0].upper() + rules.NAME_RULE[1:] + "."
    expect(dialog.get_by_text(name_rule, exact=True)).to_be_visible()
    description = f"Up to {rules.DESCRIPTION_MAX} characters."
    expect(dialog.get_by_text(description, exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    page.goto(f"{tab.origin}/ui#/groups/{group_id}")
    open_panel(page, "Add numbers")
    note = page.get_by_label("Note (optional)")
    expect(note).to_have_attribute("maxlength", str(rules.NOTE_MAX))


def test_deleting_asks_first_and_cancel_keeps_the_group(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Legal hold")
    page = open_groups(tab, account)
    page.get_by_role("button", name="Delete Legal hold").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("button", name="Delete Legal hold").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert api.get(f"/v1/groups/{group_id}").status_code == 200
    expect(page.get_by_role("link", name="Legal hold")).to_be_visible()


def test_a_group_is_renamed_and_redirected_with_mistakes_shown_in_the_form(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Opt outs", direction="outbound")
    make_group(api, "Taken name")
    page = open_groups(tab, account)
    page.get_by_role("button", name="Change Opt outs").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("x")
    dialog.get_by_role("button", name="Save").click()
    # What is wrong first, then the rule.
    expect(dialog.locator(".field-error").first).to_have_text(
        re.compile(r"^Too short: at least 2 characters\. A name is 2 to 50 characters: ")
    )
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Name").fill("taken NAME")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("A group with this name already exists.")).to_be_visible()
    dialog.get_by_label("Name").fill("Opt-outs 2026")
    dialog.get_by_label("Direction").select_option("both")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    row = page.locator("tr", has=page.get_by_role("link", name="Opt-outs 2026"))
    expect(row).to_contain_text("Inbound and outbound")
    group = api.get(f"/v1/groups/{group_id}").json()
    assert (group["name"], group["direction"]) == ("Opt-outs 2026", "both")

    # Creating with a bad name: the error is shown by the field, and nothing is created.
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    dialog.get_by_label("Name", exact=True).fill("-bad start")
    dialog.get_by_role("button", name="Create group").click()
    expect(dialog.locator(".field-error").first).to_have_text(
        re.compile(
            r"^Must start with a letter or digit, not “-”\. .*starting with a letter or digit$"
        )
    )
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    assert api.get("/v1/groups").json()["count"] == 2


def test_adding_keeps_everything_typed_when_the_server_cannot_take_it(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Do not call")
    page = open_group(tab, account, group_id)
    typed = "9876543210\n9876543211\nbad"
    open_panel(page, "Add numbers")
    page.get_by_label("Numbers or prefixes").fill(typed)

    page.get_by_label("Expires (optional)").fill("2020-01-01T10:00")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Must be in the future.")).to_be_visible()
    expect(page.get_by_label("Numbers or prefixes")).to_have_value(typed)

    page.get_by_label("Expires (optional)").fill("")
    page.route("**/v1/groups/*/numbers", lambda route: route.abort())
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="cannot be reached")).to_be_visible()
    expect(page.get_by_label("Numbers or prefixes")).to_have_value(typed)
    page.unroute("**/v1/groups/*/numbers")
    assert entries_of(api, group_id) == {}

    later = datetime.now(UTC).astimezone() + timedelta(days=30)
    page.get_by_label("Expires (optional)").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Note (optional)").fill("complaint 4411")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added 2, updated 0.")).to_be_visible()
    expect(page.get_by_label("Numbers or prefixes")).to_have_value("bad")
    stored = entries_of(api, group_id)
    assert set(stored) == {"+919876543210", "+919876543211"}
    for entry in stored.values():
        assert entry["note"] == "complaint 4411"
        expires = datetime.fromisoformat(str(entry["expires_at"]))
        assert abs(expires - later.replace(second=0, microsecond=0)) < timedelta(seconds=1)
    expect(page.locator("main table.list tbody tr").first).to_contain_text("complaint 4411")


def test_entries_page_search_filter_by_status_and_remove_selected(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Spam")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    numbers = [f"+9198000{i:05d}" for i in range(250)]
    assert api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": numbers}).status_code == 200
    expiring = ["+442079460001", "+442079460002"]
    answer = api.post(
        f"/v1/groups/{group_id}/numbers", json={"numbers": expiring, "expires_at": soon}
    )
    assert answer.status_code == 200
    time.sleep(2.2)

    page = open_group(tab, account, group_id)
    position = page.get_by_role("navigation", name="Pages of entries", exact=True)
    expect(position).to_contain_text(showing("1", "100", "252"))
    in_order = [spaced(number) for number in sorted(numbers + expiring)]
    assert numbers_listed(page) == in_order[:100]
    # The pager is above the list and again below it; a page turn moves the focus to the page
    # shown, its first entry.
    below = page.get_by_role("navigation", name="Pages of entries, after the list")
    position.get_by_role("button", name="Next page").click()
    expect(position).to_contain_text(showing("101", "200", "252"))
    expect(below).to_contain_text(showing("101", "200", "252"))
    assert numbers_listed(page) == in_order[100:200]
    expect(page.get_by_label(f"Select {in_order[100]}")).to_be_focused()
    below.get_by_role("button", name="Next page").click()
    expect(position).to_contain_text(showing("201", "252", "252"))
    expect(page.get_by_label(f"Select {in_order[200]}")).to_be_focused()
    expect(position.get_by_role("button", name="Next page")).to_be_disabled()
    expect(below.get_by_role("button", name="Next page")).to_be_disabled()
    below.get_by_role("button", name="Previous page").click()
    expect(position).to_contain_text(showing("101", "200", "252"))
    expect(page.get_by_label(f"Select {in_order[100]}")).to_be_focused()

    page.get_by_label("Status").select_option("expired")
    expect(position).to_contain_text(showing("1", "2", "2"))
    assert table_column(page, "Status") == ["Expired", "Expired"]
    page.get_by_label("Status").select_option("all")
    page.get_by_label("Search").fill("98000 00017")  # typed with a space, as people do
    expect(position).to_contain_text(showing("1", "1", "1"))
    assert numbers_listed(page) == ["+91 98000 00017"]

    page.get_by_label("Search").fill("980000001")  # +91980000001x: ten of them
    expect(position).to_contain_text(showing("1", "10", "10"))
    page.get_by_label("Select this page").check()
    expect(page.get_by_role("button", name="Remove selected (10)")).to_be_enabled()
    page.get_by_label("Select this page").uncheck()
    expect(page.get_by_role("button", name="Remove selected")).to_be_disabled()
    page.get_by_label("Select +91 98000 00012").check()
    page.get_by_label("Select +91 98000 00015").check()
    page.get_by_role("button", name="Remove selected (2)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("+91 98000 00012, +91 98000 00015 will no longer be blocked")
    dialog.get_by_role("button", name="Remove").click()
    expect(position).to_contain_text(showing("1", "8", "8"))
    # The rows it named are gone: the focus is on what it did.
    expect(page.get_by_text("Removed 2 entries.")).to_be_focused()
    left = api.get(f"/v1/groups/{group_id}/numbers", params={"q": "980000001"}).json()["data"]
    assert {e["number"] for e in left} == {f"+91980000001{d}" for d in "01346789"}
    assert api.get(f"/v1/groups/{group_id}").json()["active_count"] == 248
    expect(page.locator(".facts dt:text-is('Active') + dd")).to_have_text("248")


def test_a_group_of_100000_entries_pages_and_searches(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Big list")
    body = "".join(f"+91700{i:07d}\n" for i in range(100_000)).encode()
    answer = api.post(f"/v1/groups/{group_id}/numbers:import", content=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["added"] == 100_000
    page = open_group(tab, account, group_id)
    position = page.get_by_role("navigation", name="Pages of entries", exact=True)
    expect(position).to_contain_text(showing("1", "100", "100,000"))
    expect(page.locator(".facts dt:text-is('Active') + dd")).to_have_text("100,000")
    assert numbers_listed(page)[:2] == ["+91 70000 00000", "+91 70000 00001"]
    for first in ("101", "201", "301"):
        position.get_by_role("button", name="Next page").click()
        expect(position).to_contain_text(showing(first, str(int(first) + 99), "100,000"))
    assert numbers_listed(page)[0] == "+91 70000 00300"
    page.get_by_label("Search").fill("7000099999")
    expect(position).to_contain_text(showing("1", "1", "1"))
    assert numbers_listed(page) == ["+91 70000 99999"]


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, PHONE], ids=["desktop", "phone"]
)
def test_a_group_opens_on_its_entries_with_add_and_upload_on_demand(
    browser: Browser, site: Site, account: Credentials, api: httpx.Client, viewport: ViewportSize
) -> None:
    group_id = make_group(api, "Opens on entries", description="The list the team keeps")
    numbers = [f"+9198100{i:05d}" for i in range(150)]
    assert api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": numbers}).status_code == 200
    with open_tab(browser, site.url, viewport=viewport) as tab:
        page = open_group(tab, account, group_id)
        first = page.locator("main table.entries tbody tr").first
        expect(first).to_contain_text("+91 98100 00000")
        box = first.bounding_box()
        assert box is not None
        assert box["y"] + 40 <= viewport["height"], f"first row at {box}"
        # Add and Upload open on demand, one at a time; Escape or Close shuts them.
        numbers_box = page.get_by_label("Numbers or prefixes")
        expect(numbers_box).to_be_hidden()
        expect(page.get_by_label("CSV or text file")).to_be_hidden()
        add = page.get_by_role("button", name="Add numbers")
        add.click()
        expect(numbers_box).to_be_focused()
        page.keyboard.press("Escape")
        expect(numbers_box).to_be_hidden()
        expect(add).to_be_focused()
        expect(add).to_have_attribute("aria-expanded", "false")
        add.click()
        upload = page.get_by_role("button", name="Upload a file")
        upload.click()
        expect(numbers_box).to_be_hidden()
        expect(page.get_by_label("CSV or text file")).to_be_focused()
        page.get_by_role("button", name="Close").click()
        expect(page.get_by_label("CSV or text file")).to_be_hidden()
        expect(upload).to_be_focused()
        assert tab.script_errors == []


def test_on_a_phone_entries_are_compact_rows_with_44_px_tap_targets(
    browser: Browser, site: Site, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Compact")
    numbers = [f"+9198200{i:05d}" for i in range(20)]
    later = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    assert api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": numbers}).status_code == 200
    noted = {"numbers": ["+919820000003"], "note": "asked by phone", "expires_at": later}
    assert api.post(f"/v1/groups/{group_id}/numbers", json=noted).status_code == 200
    with open_tab(browser, site.url, viewport=PHONE) as tab:
        page = open_group(tab, account, group_id)
        rows = page.locator("main table.entries tbody tr")
        expect(rows).to_have_count(20)
        for index in (0, 3):  # one plain, one with an expiry and a note
            box = rows.nth(index).bounding_box()
            assert box is not None
            assert box["height"] <= 140, f"row {index}: {box}"
        expect(rows.nth(3)).to_contain_text("asked by phone")
        # Every control on the screen is at least 44 px tall; a checkbox's tap target is its
        # cell, 44 by 44, and a tap at its corner ticks it.
        small = page.evaluate(
            """() => [...document.querySelectorAll('main button, main select, main input')]
              .filter((c) => c.offsetParent !== null && !['checkbox', 'radio'].includes(c.type))
              .filter((c) => c.getBoundingClientRect().height < 44)
              .map((c) => c.outerHTML.slice(0, 80))"""
        )
        assert small == []
        tap = rows.nth(5).locator("label.tap")
        tap.scroll_into_view_if_needed()
        area = tap.bounding_box()
        assert area is not None
        assert area["width"] >= 44
        assert area["height"] >= 44
        page.mouse.click(area["x"] + 3, area["y"] + 3)
        expect(page.get_by_label("Select +91 98200 00005")).to_be_checked()
        expect(page.get_by_role("button", name="Remove selected (1)")).to_be_enabled()
        assert tab.script_errors == []


def test_a_page_of_entries_is_one_tab_stop_and_the_arrow_keys_move_in_it(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Tab stops")
    numbers = [f"+9198300{i:05d}" for i in range(120)]
    assert api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": numbers}).status_code == 200
    page = open_group(tab, account, group_id)
    expect(page.locator("main table.entries tbody tr")).to_have_count(100)
    # Tab from the page's start to its end: the 100 rows (a checkbox and Edit each) are one stop.
    page.locator("a.skip").focus()
    stops: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate(
            "() => { const e = document.activeElement; return e === document.body ? '' :"
            " e.getAttribute('aria-label') || e.id || e.textContent.trim().slice(0, 40); }"
        )
        if where == "" or where in stops:
            break
        stops.append(where)
    assert len(stops) <= 30, stops
    in_list = [stop for stop in stops if stop.startswith(("Select +91", "Edit +91"))]
    assert in_list == ["Select +91 98300 00000"], stops
    # Within the list: down a row, along it, and to its ends.
    page.get_by_label("Select +91 98300 00000").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Select +91 98300 00001")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_label("Select +91 98300 00001")).to_be_checked()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("button", name="Edit +91 98300 00001")).to_be_focused()
    page.keyboard.press("End")
    expect(page.get_by_role("button", name="Edit +91 98300 00099")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label("Select +91 98300 00099")).to_be_focused()
    page.keyboard.press("Home")
    expect(page.get_by_label("Select +91 98300 00000")).to_be_focused()
    # Leaving and coming back lands where the person was.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Select +91 98300 00001")).to_be_focused()


CONTRAST_OF_FOCUS_RING = """() => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const luminance = ([r, g, b]) => {
    const part = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * part(r) + 0.7152 * part(g) + 0.0722 * part(b);
  };
  const element = document.activeElement;
  const style = getComputedStyle(element);
  if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return 0;
  // The ring is drawn outside the element, on what is behind it.
  let behind = element.parentElement;
  let colour = null;
  while (behind) {
    const [r, g, b, a = 1] = rgb(getComputedStyle(behind).backgroundColor);
    if (a > 0) { colour = [r, g, b]; break; }
    behind = behind.parentElement;
  }
  const ring = luminance(rgb(style.outlineColor));
  const ground = luminance(colour || [255, 255, 255]);
  return (Math.max(ring, ground) + 0.05) / (Math.min(ring, ground) + 0.05);
}"""


def test_the_focus_ring_has_3_to_1_contrast_on_every_stop(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    page = sign_in(tab, account)
    for name, route in screens(site, api).items():
        page.goto(f"{tab.origin}/ui{route}")
        settled(page, name)
        page.locator("a.skip").focus()
        seen: list[str] = []
        for _ in range(60):
            page.keyboard.press("Tab")
            stop = page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
            if stop in seen or stop.startswith("<body"):
                break
            seen.append(stop)
            contrast = page.evaluate(CONTRAST_OF_FOCUS_RING)
            assert contrast >= 3, f"{name}: {stop}: {contrast:.2f}:1"
        assert len(seen) > 5, f"{name}: {seen}"


def test_focus_after_adding_is_on_what_it_did(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Focus add")
    page = open_group(tab, account, group_id)
    open_panel(page, "Add numbers")
    page.get_by_label("Numbers or prefixes").fill("9876543210")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added 1, updated 0.")).to_be_focused()
    # Nothing valid: the box, which keeps what was typed.
    page.get_by_label("Numbers or prefixes").fill("12ab")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_label("Numbers or prefixes")).to_be_focused()


def test_focus_after_an_upload_is_on_its_summary(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Focus upload")
    page = open_group(tab, account, group_id)
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "two.txt", "mimeType": "text/plain", "buffer": b"9876543210\n9876543211\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    result = page.locator(".upload-result")
    expect(result).to_contain_text("Imported two.txt.")
    expect(result).to_be_focused()


def test_focus_after_a_download_or_a_cancelled_removal_stays_on_its_button(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Focus stays")
    api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": ["9876543210"]})
    page = open_group(tab, account, group_id)
    with page.expect_download():
        page.get_by_role("button", name="Download CSV").click()
    expect(page.get_by_role("button", name="Download CSV")).to_be_focused()
    page.get_by_label("Select +91 98765 43210").check()
    page.get_by_role("button", name="Remove selected (1)").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Remove selected (1)")).to_be_focused()


def test_one_entry_is_edited_in_place_and_the_focus_comes_back_to_it(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Edit in place")
    api.post(
        f"/v1/groups/{group_id}/numbers", json={"numbers": ["9876543210", "140*"], "note": "old"}
    )
    page = open_group(tab, account, group_id)
    edit = page.get_by_role("button", name="Edit +91 98765 43210")
    edit.click()
    dialog = page.get_by_role("dialog", name="Edit +91 98765 43210")
    expect(dialog.get_by_label("Note")).to_have_value("old")
    expect(dialog.get_by_label("Expires")).to_have_value("")
    # A past expiry is refused in the dialog, and nothing is written.
    dialog.get_by_label("Expires").fill("2020-01-01T10:00")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Must be in the future")).to_be_visible()
    assert entries_of(api, group_id)["+919876543210"]["expires_at"] is None
    later = datetime.now() + timedelta(days=30)
    dialog.get_by_label("Expires").fill(later.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_label("Note").fill("asked to stop, 6 Dec")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    row = page.locator("main table.entries tbody tr", has_text="+91 98765 43210")
    expect(row).to_contain_text("asked to stop, 6 Dec")
    expect(edit).to_be_focused()  # the row drawn anew, its Edit again
    entry = entries_of(api, group_id)["+919876543210"]
    assert entry["note"] == "asked to stop, 6 Dec"
    expires = datetime.fromisoformat(str(entry["expires_at"]))
    assert abs((expires - later.astimezone()).total_seconds()) < 60
    assert entries_of(api, group_id)["+91140*"]["note"] == "old"  # the other entry untouched
    # Emptied, the expiry goes (never expires); cancelled, nothing changes.
    edit.click()
    dialog.get_by_label("Expires").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(row.locator("td[data-label='Expires']")).to_have_text("Never")
    assert entries_of(api, group_id)["+919876543210"]["expires_at"] is None
    edit.click()
    dialog.get_by_label("Note").fill("not saved")
    dialog.get_by_role("button", name="Cancel").click()
    expect(edit).to_be_focused()
    assert entries_of(api, group_id)["+919876543210"]["note"] == "asked to stop, 6 Dec"


def test_entries_show_both_forms_and_the_search_takes_any_spelling_a_check_takes(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    assert api.get("/v1/account").json()["region"] == "IN"  # as every test's account is
    group_id = make_group(api, "Spelt")
    patterns = ["+919800000001", "+919800000017", "+442079460958", "+91140*"]
    assert api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": patterns}).is_success
    page = open_group(tab, account, group_id)
    position = page.get_by_role("navigation", name="Pages of entries", exact=True)
    expect(position).to_contain_text(showing("1", "4", "4"))
    # Spaced for reading, the international form first, the national one beneath it.
    assert numbers_listed(page) == [
        "+91 140*",
        "+44 20 7946 0958",
        "+91 98000 00001",
        "+91 98000 00017",
    ]
    nationals = page.locator("main table.list tbody .national code").all_inner_texts()
    assert nationals == ["0140*", "020 7946 0958", "098000 00001", "098000 00017"]

    search = page.get_by_label("Search")
    search.fill("09800000001")  # the national number with its trunk prefix, as people write it
    expect(position).to_contain_text(showing("1", "1", "1"))
    assert numbers_listed(page) == ["+91 98000 00001"]
    expect(page.get_by_text("No entry matches.")).to_have_count(0)
    for spelling, shown in (
        ("+91 98000 00001", ["+91 98000 00001"]),
        ("0091 98000 00017", ["+91 98000 00017"]),
        ("098000", ["+91 98000 00001", "+91 98000 00017"]),  # a part, spelt nationally
        ("7946", ["+44 20 7946 0958"]),  # a part of the digits
        ("0140*", ["+91 140*"]),
    ):
        search.fill(spelling)
        # Waited for: a search may list as many as the one before it.
        expect(page.locator("main table.list tbody code.number")).to_have_text(shown)
        expect(position).to_contain_text(showing("1", str(len(shown)), str(len(shown))))
    search.fill("09800000002")
    expect(page.get_by_text("No entry matches.")).to_be_visible()


def test_the_expiry_hint_names_the_zone_as_the_account_does(
    browser: Browser, site: Site, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Zoned")
    assert api.get("/v1/account").json()["timezone"] == "Asia/Kolkata"
    for zone, named in (("Asia/Kolkata", "Asia/Kolkata"), ("Europe/London", "Europe/London")):
        with open_tab(browser, site.url, timezone_id=zone) as tab:
            page = open_group(tab, account, group_id)
            hint = page.get_by_text("Your time zone (")
            expect(hint).to_have_text(f"Your time zone ({named}). Empty: never expires.")
            assert tab.script_errors == []
            assert tab.foreign_requests == []
            if zone == "Asia/Kolkata":  # the browser's own name for it is the older one
                browser_says = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
                assert browser_says == "Asia/Calcutta"


def test_an_upload_carries_its_note_to_the_files_entries(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Noted upload")
    api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": ["9815000001"], "note": "old"})
    page = open_group(tab, account, group_id)
    expect(page.locator("main table.list tbody tr")).to_have_count(1)
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "june.txt", "mimeType": "text/plain", "buffer": b"9815000001\n9815000002\n"}
    )
    page.get_by_label("Note for the file's entries (optional)").fill("registry June")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".upload-result")).to_contain_text("Imported june.txt.")
    stored = entries_of(api, group_id)
    assert {number: entry["note"] for number, entry in stored.items()} == {
        "+919815000001": "registry June",
        "+919815000002": "registry June",
    }
    expect(page.locator("main table.list tbody tr")).to_have_count(2)
    assert table_column(page, "Note") == ["registry June", "registry June"]

    # A note the server refuses is shown by its field, and nothing is imported.
    page.get_by_label("Note for the file's entries (optional)").evaluate(
        "(input) => { input.removeAttribute('maxlength'); }"
    )
    page.get_by_label("Note for the file's entries (optional)").fill("n" * (rules.NOTE_MAX + 1))
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "july.txt", "mimeType": "text/plain", "buffer": b"9815000003\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    note = page.get_by_label("Note for the file's entries (optional)")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(rules.NOTE_RULE)).to_be_visible()
    assert set(entries_of(api, group_id)) == {"+919815000001", "+919815000002"}


def test_an_upload_with_invalid_lines_writes_nothing_unless_told_to_skip_them(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Imported")
    page = open_group(tab, account, group_id)
    file = {
        "name": "list.csv",
        "mimeType": "text/csv",
        "buffer": b"number,name\n9876543210,A\n12,B\n98765x,C\n",
    }
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(file)
    page.get_by_label("Import the valid lines even if some are invalid").uncheck()
    page.get_by_role("button", name="Upload", exact=True).click()
    result = page.locator(".upload-result")
    expect(result).to_contain_text("Nothing was imported from list.csv: 2 lines are invalid.")
    assert table_column(page, "Line") == ["3", "4"]
    with page.expect_download() as caught:
        result.get_by_role("link", name="Download these lines as CSV").click()
    listed = list(csv.DictReader(io.StringIO(Path(caught.value.path()).read_text())))
    assert [(r["line"], r["text"]) for r in listed] == [("3", "12"), ("4", "98765x")]
    assert entries_of(api, group_id) == {}

    page.get_by_label("Import the valid lines even if some are invalid").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(result).to_contain_text("Imported list.csv.")
    expect(result.locator("dt:text-is('Added') + dd")).to_have_text("1")
    assert set(entries_of(api, group_id)) == {"+919876543210"}

    page.get_by_role("button", name="Upload", exact=True).click()  # same file again: an update
    expect(result.locator("dt:text-is('Updated') + dd")).to_have_text("1")

    page.get_by_label("CSV or text file").set_input_files(
        {"name": "empty.csv", "mimeType": "text/csv", "buffer": b""}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("This file is empty.")).to_be_visible()
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "words.txt", "mimeType": "text/plain", "buffer": b"name\n\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="holds no numbers")).to_be_visible()
    page.locator("summary", has_text="Columns").click()
    page.get_by_label("Number column (optional)").fill("telephone")
    page.get_by_label("CSV or text file").set_input_files(file)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="telephone")).to_be_visible()
    assert set(entries_of(api, group_id)) == {"+919876543210"}


def test_a_replace_refused_by_the_guard_goes_through_once_more_is_allowed(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Registry")
    old = [f"98130{i:05d}" for i in range(10)]
    api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": old})
    page = open_group(tab, account, group_id)
    expect(page.locator("main table.list tbody tr")).to_have_count(10)
    # Seven of the ten kept, one new: three removed, 30%, over the 20% allowed by default.
    kept, new = old[:7], ["9813099999"]
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "month.csv", "mimeType": "text/csv", "buffer": "\n".join(kept + new).encode()}
    )
    allowance = page.get_by_label("Allow removing up to (% of the group)")
    expect(allowance).to_be_hidden()
    page.get_by_role("radio", name="Replace the group with the file").check()
    expect(page.get_by_role("group", name="What the file does")).to_contain_text(
        "A replace that would remove more than 20% of the group is refused, so a truncated "
        "download cannot wipe a registry."
    )
    expect(allowance).to_have_value("20")
    page.get_by_role("button", name="Upload", exact=True).click()
    refusal = page.get_by_text("This file would remove")
    expect(refusal).to_have_text(
        "This file would remove 3 of the group's 10 entries (30%), more than the 20% allowed: "
        "nothing was changed. Check the file is complete, or allow more and upload again."
    )
    expect(refusal).to_be_focused()
    assert set(entries_of(api, group_id)) == {f"+91{n}" for n in old}
    page.keyboard.press("Tab")  # from the refusal, the next stop is the allowance to raise
    expect(allowance).to_be_focused()

    # The file stays chosen: raising the allowance and uploading again is all it takes.
    allowance.fill("30")
    page.get_by_role("button", name="Upload", exact=True).click()
    result = page.locator(".upload-result")
    expect(result).to_contain_text("Replaced the group with month.csv.")
    for label, value in (("Added", "1"), ("Already there", "7"), ("Removed", "3")):
        expect(result.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
    expect(refusal).to_be_hidden()
    assert set(entries_of(api, group_id)) == {f"+91{n}" for n in kept + new}
    expect(page.locator("main table.list tbody tr")).to_have_count(8)
    assert sorted(numbers_listed(page)) == sorted(spaced(f"+91{n}") for n in kept + new)

    allowance.fill("150")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(allowance).to_have_attribute("aria-invalid", "true")
    expect(allowance).to_be_focused()
    expect(page.get_by_text("Give a share from 0 to 100.")).to_be_visible()


def test_a_change_list_adds_and_deletes_its_numbers(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Own DNC")
    api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": ["9814000001", "9814000002"]})
    page = open_group(tab, account, group_id)
    expect(page.locator("main table.list tbody tr")).to_have_count(2)
    open_panel(page, "Upload a file")
    page.get_by_role("radio", name="Apply a change list (A/D lines)").check()
    page.locator("summary", has_text="Columns").click()
    expect(page.get_by_label("Expiry column (optional)")).to_be_hidden()
    expect(page.get_by_label("Operation column (optional)")).to_be_visible()
    changes = b"number,action\n9814000001,D\n9814000003,A\n9814000002,add\n9814000009,D\n"
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "changes.csv", "mimeType": "text/csv", "buffer": changes}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    result = page.locator(".upload-result")
    expect(result).to_contain_text("Applied the change list changes.csv.")
    for label, value in (("Added", "1"), ("Already there", "1"), ("Removed", "1")):
        expect(result.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
    assert set(entries_of(api, group_id)) == {"+919814000002", "+919814000003"}
    expect(page.locator("main table.list tbody tr")).to_have_count(2)

    # A file without an operation column is refused whole, in words.
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "plain.txt", "mimeType": "text/plain", "buffer": b"9814000004\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="op_column")).to_be_visible()
    assert set(entries_of(api, group_id)) == {"+919814000002", "+919814000003"}


def test_an_upload_finishing_on_another_screen_is_told_and_counted(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Background")
    page = open_group(tab, account, group_id)
    expect(page.get_by_role("heading", name="Background")).to_be_visible()
    cdp = tab.context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 200_000}
    cdp.send("Network.emulateNetworkConditions", slow)
    rows = "".join(f"98120{i:05d}\n" for i in range(60_000)).encode()  # 660 kB: about 3 s
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "late.txt", "mimeType": "text/plain", "buffer": rows}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("Uploading:")).to_be_visible()
    page.get_by_role("link", name="Groups", exact=True).click()
    row = page.locator("tr", has=page.get_by_role("link", name="Background"))
    expect(row.locator("[data-label=Active]")).to_have_text("0")
    expect(page.locator("#status")).to_contain_text(
        "Imported late.txt into “Background”: 60,000 added", timeout=30_000
    )
    expect(row.locator("[data-label=Active]")).to_have_text("60,000")


def test_download_gives_the_group_as_csv(tab: Tab, account: Credentials, api: httpx.Client) -> None:
    group_id = make_group(api, "Export me")
    api.post(
        f"/v1/groups/{group_id}/numbers", json={"numbers": ["9876543210", "140*"], "note": "x"}
    )
    page = open_group(tab, account, group_id)
    expect(page.get_by_role("heading", name="Export me")).to_be_visible()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download CSV").click()
    download = caught.value
    assert download.suggested_filename == "Export-me.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [(r["number"], r["kind"], r["note"]) for r in rows] == [
        ("+91140*", "prefix", "x"),
        ("+919876543210", "number", "x"),
    ]


def test_check_tells_blocked_not_blocked_and_invalid_with_direction(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    inbound = make_group(api, "Abusers", direction="inbound")
    expiry = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    api.post(
        f"/v1/groups/{inbound}/numbers",
        json={"numbers": ["9876543210"], "expires_at": expiry.isoformat()},
    )
    page = sign_in(tab, account)
    page.get_by_role("link", name="Check").click()
    number = page.get_by_label("Phone number")
    verdict = page.locator(".verdict")

    number.fill("+91 98765 43210")
    page.get_by_role("button", name="Check").click()
    expect(verdict).to_contain_text("Blocked")
    expect(verdict.get_by_role("link", name="Abusers")).to_be_visible()
    shown = page.evaluate(
        "(iso) => new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'}).format(new Date(iso))",
        expiry.isoformat(),
    )
    expect(verdict.locator("[data-label=Expires]")).to_have_text(shown)

    page.get_by_label("Call direction").select_option("outbound")
    page.get_by_role("button", name="Check").click()
    expect(verdict).to_contain_text("Not blocked")
    expect(verdict).to_contain_text("+919876543210 matches no active entry")

    number.fill("12ab")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("Not a valid phone number.")).to_be_visible()
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".verdict")).to_have_count(0)

    for text in ("98765/43210", ".."):  # texts that make no path of the API's
        number.fill(text)
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_text("Not a valid phone number.")).to_be_visible()

    number.fill("9876543210")
    page.get_by_role("button", name="Check").click()
    expect(verdict).to_contain_text("Not blocked")
    number.fill("")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("Type a number.")).to_be_visible()
    expect(page.locator(".verdict")).to_have_count(0)  # no answer left beside the question


def test_check_says_why_when_and_by_whom_each_entry_blocks(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    group = make_group(api, "Complaints")
    asha = api.post("/v1/keys", json={"label": "Supervisor Asha", "scopes": ["write"]}).json()
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {asha['key']}"}) as by:
        by.post(
            f"/v1/groups/{group}/numbers",
            json={"numbers": ["9876543210"], "note": "Abusive to agent Ravi"},
        )
        by.post(f"/v1/groups/{group}/numbers", json={"numbers": ["140*"]})
    page = sign_in(tab, account)
    page.get_by_role("link", name="Check").click()
    page.get_by_label("Phone number").fill("09876543210")
    page.get_by_role("button", name="Check").click()
    row = page.locator(".verdict tbody tr").first
    expect(row.locator("[data-label=Note]")).to_have_text("Abusive to agent Ravi")
    expect(row.locator("[data-label=Added]")).to_contain_text("by API, Supervisor Asha")
    page.get_by_label("Phone number").fill("01401234567")
    page.get_by_role("button", name="Check").click()
    expect(row.locator("[data-label=Note]")).to_have_text("No note")
    expect(row.locator("[data-label=Added]")).to_contain_text("by API, Supervisor Asha")
    row.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator("main tbody tr").first).to_contain_text("+91140*")


def test_history_filters_by_group_and_number(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    first = make_group(api, "First")
    second = make_group(api, "Second")
    api.post(f"/v1/groups/{first}/numbers", json={"numbers": ["9876543210"]})
    api.post(f"/v1/groups/{second}/numbers", json={"numbers": ["9123456789"]})
    api.patch(f"/v1/groups/{second}", json={"name": "Second list"})
    gone = make_group(api, "Gone soon")
    api.post(f"/v1/groups/{gone}/numbers", json={"numbers": [f"98000{i:05d}" for i in range(40)]})
    api.delete(f"/v1/groups/{gone}")
    page = sign_in(tab, account)
    page.get_by_role("link", name="History").click()
    expect(page.locator("main tbody tr")).to_have_count(8)
    # Newest first: the deleted group still has its name; the event's numbers are a preview.
    assert table_column(page, "Change")[0] == "Deleted the group\n40 entries"
    group_cells = page.locator("main tbody tr [data-label=Group]")
    for row in range(3):  # once the groups' names have come (the rows may show before)
        expect(group_cells.nth(row)).to_have_text("Gone soon (deleted)")
    added = page.locator("main tbody tr").nth(1)
    preview = added.locator("[data-label=Numbers] summary")
    expect(preview).to_have_text("+919800000000, +919800000001, +919800000002 and 37 more")
    every = added.locator("[data-label=Numbers] details > code")
    expect(every).to_be_hidden()
    preview.click()
    expect(every).to_be_visible()
    expect(every).to_contain_text("+919800000039")
    renamed = page.locator("main tbody tr").nth(3)
    expect(renamed.locator("[data-label=Change]")).to_have_text("Renamed“Second” → “Second list”")

    page.get_by_label("Group").select_option(label="First")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main tbody tr")).to_have_count(2)
    assert "group=" in page.url
    # The rows may show before the groups' names have come: wait for the redraw with them.
    expect(page.locator("main tbody tr [data-label=Group]")).to_have_text(["First", "First"])

    page.get_by_label("Group").select_option(label="All groups")
    page.get_by_label("Number").fill("09123456789")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator("main tbody tr")).to_contain_text("+919123456789")

    page.get_by_label("Number").fill("12ab")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Not a valid phone number.")).to_be_visible()


def test_history_shows_seconds_before_and_after_and_filters_by_days(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    made = make_group(api, "Days")
    api.patch(f"/v1/groups/{made}", json={"direction": "inbound", "description": "Opt-outs"})
    page = sign_in(tab, account)
    page.get_by_role("link", name="History").click()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(2)
    changed = rows.first.locator("[data-label=Change]")
    expect(changed).to_contain_text("Description: (none) → “Opt-outs”")
    expect(changed).to_contain_text("Direction: “both” → “inbound”")
    when = rows.first.locator("time")
    stamp = when.get_attribute("datetime") or ""
    second = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone().strftime(":%S")
    expect(when).to_contain_text(second)  # to the second, in the browser's zone
    today = datetime.now().astimezone().date()
    page.get_by_label("From", exact=True).fill(str(today + timedelta(days=1)))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No changes match.")).to_be_visible()
    assert f"from={today + timedelta(days=1)}" in page.url
    page.get_by_label("From", exact=True).fill(str(today - timedelta(days=1)))
    page.get_by_label("To", exact=True).fill(str(today))
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(2)
    page.get_by_label("To", exact=True).fill(str(today - timedelta(days=2)))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("To is before From.")).to_be_visible()


# --- API keys ------------------------------------------------------------------------------------


def test_a_supervisor_issues_a_check_only_key_and_the_history_names_the_supervisor(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    """The page's Keys screen: a supervisor with an admin key issues a key for a dialer that
    may only check; the dialer checks but cannot change anything, and every change made on the
    page is in the history under the supervisor's key and the page."""
    supervisor = api.post(
        "/v1/keys", json={"label": "Supervisor Asha", "scopes": ["write", "admin"]}
    ).json()["key"]
    page = sign_in(tab, Credentials(account.username, supervisor))
    page.get_by_role("link", name="Keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("The key you are signed in with")
    page.get_by_role("button", name="Issue a key").click()
    issuing = page.get_by_role("dialog", name="Issue a key")
    issuing.get_by_label("Label").fill("Dialer, floor 2")
    expect(issuing.get_by_role("checkbox", name="Check")).to_be_checked()
    issuing.get_by_role("button", name="Issue key").click()
    shown = page.get_by_role("dialog", name="Key issued")
    expect(shown.get_by_label("The new key")).to_be_focused()
    dialer = shown.get_by_label("The new key").input_value()
    assert dialer.startswith("cbk_")
    shown.get_by_role("button", name="Done").click()
    expect(page.get_by_role("button", name="Issue a key")).to_be_focused()
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("Dialer, floor 2")
    expect(rows.nth(2)).to_contain_text("check")

    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {dialer}"}) as dial:
        assert dial.get("/v1/check/9876543210").status_code == 200
        refused = dial.post("/v1/groups", json={"name": "Dialer's own"})
        assert (refused.status_code, refused.json()["needed_scope"]) == (403, "write")

    create_group(page, "Made on the page")
    page.get_by_role("link", name="History").click()
    first = page.locator("main tbody tr").first
    expect(first.locator("[data-label=By]")).to_have_text("Admin pageSupervisor Asha")
    issued_row = page.locator("main tbody tr").nth(1)
    expect(issued_row.locator("[data-label=Change]")).to_contain_text("Issued an API key")

    page.get_by_role("link", name="Keys").click()
    page.get_by_role("button", name="Revoke Dialer, floor 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(rows.nth(2)).to_contain_text("Revoked")
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {dialer}"}) as dial:
        assert dial.get("/v1/check/9876543210").status_code == 401


def test_the_keys_screen_tells_a_key_without_admin_why_it_shows_nothing(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    reader = api.post("/v1/keys", json={"label": "Reader", "scopes": ["read"]}).json()["key"]
    page = sign_in(tab, Credentials(account.username, reader))
    page.get_by_role("link", name="Keys").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The key you signed in with cannot see or issue keys: that needs a key with the Admin "
        "scope."
    )
    expect(page.get_by_role("button", name="Issue a key")).to_be_disabled()


# --- kinds of groups, and campaigns ------------------------------------------------------------


def kind_and_scope(page: Page, group: str, shown: str) -> None:
    """The groups list's "Kind and scope" cell of a group, its two lines joined by " / ",
    comes to read ``shown`` (the list may be drawn anew after a change: waited for)."""
    row = page.locator("tr", has=page.get_by_role("link", name=group, exact=True))
    cell = row.locator("[data-label='Kind and scope']")
    expect(cell).to_be_visible()
    deadline = time.monotonic() + 5
    while (text := " / ".join(cell.inner_text().split("\n"))) != shown:
        assert time.monotonic() < deadline, f"{group}: {text!r}, not {shown!r}"
        time.sleep(0.05)


def test_a_groups_kind_scope_and_consent_override_are_set_and_shown(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    page = open_groups(tab, account)
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog", name="New group")
    consent_box = dialog.get_by_label("Consent overrides this list")
    expect(consent_box).to_be_visible()  # a block group's choice, with its hint beside it
    expect(dialog.get_by_text("For a national registry")).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("Consent 2026")
    dialog.get_by_label("Kind").select_option("allow")
    expect(consent_box).to_be_hidden()  # an allow group lifts blocks; nothing lifts it
    dialog.get_by_label("Scope").select_option("attached")
    dialog.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", name="Consent 2026", level=1)).to_be_focused()
    facts = page.locator(".facts")
    expect(facts.locator("dt:text-is('Kind') + dd")).to_have_text("Allow")
    expect(facts.locator("dt:text-is('Scope') + dd")).to_have_text("Attached only")
    expect(facts.locator("dt:text-is('Consent overrides')")).to_have_count(0)
    created = api.get("/v1/groups", params={"name": "Consent 2026"}).json()["data"][0]
    assert (created["kind"], created["scope"], created["consent_overrides"]) == (
        "allow",
        "attached",
        False,
    )

    registry = make_group(api, "National registry")
    page.get_by_role("link", name="Groups", exact=True).click()
    kind_and_scope(page, "Consent 2026", "Allow / Attached only")
    kind_and_scope(page, "National registry", "Block / Global")
    change = page.get_by_role("button", name="Change National registry")
    change.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Kind")).to_have_value("block")
    expect(dialog.get_by_label("Scope")).to_have_value("global")
    dialog.get_by_label("Consent overrides this list").check()
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(change).to_be_focused()  # the row drawn anew, its button again
    kind_and_scope(page, "National registry", "Block / Global · consent overrides")
    group = api.get(f"/v1/groups/{registry}").json()
    assert (group["kind"], group["scope"], group["consent_overrides"]) == ("block", "global", True)

    page.get_by_role("link", name="National registry").click()
    facts = page.locator(".facts")
    expect(facts.locator("dt:text-is('Consent overrides') + dd")).to_have_text("Yes")
    # Made an allow group, it loses the override (only a block group has one).
    page.get_by_role("button", name="Change group").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Consent overrides this list")).to_be_checked()
    dialog.get_by_label("Kind").select_option("allow")
    dialog.get_by_role("button", name="Save").click()
    expect(facts.locator("dt:text-is('Kind') + dd")).to_have_text("Allow")
    expect(facts.locator("dt:text-is('Consent overrides')")).to_have_count(0)
    expect(page.get_by_role("button", name="Change group")).to_be_focused()
    group = api.get(f"/v1/groups/{registry}").json()
    assert (group["kind"], group["consent_overrides"]) == ("allow", False)


def test_a_campaign_is_created_with_calling_hours_and_groups_attached_and_detached(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    registry = make_group(api, "National registry", consent_overrides=True)
    consent = make_group(api, "Consent 2026", kind="allow", scope="attached")
    make_campaign(api, "Taken", None, [])
    page = sign_in(tab, account)
    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_focused()
    page.get_by_role("button", name="New campaign").click()
    dialog = page.get_by_role("dialog", name="New campaign")
    dialog.get_by_label("Name", exact=True).fill("taken")
    expect(dialog.get_by_label("Mon", exact=True)).to_be_hidden()  # any time, until asked
    dialog.get_by_label("Only call within calling hours").check()
    dialog.get_by_label("Sat", exact=True).uncheck()
    dialog.get_by_label("From", exact=True).fill("10:00")
    until = dialog.get_by_label("Until", exact=True)
    until.fill("10:00")
    dialog.get_by_role("button", name="Create campaign").click()
    # The server's 422, by the field it names (calling_window.end).
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(until).to_be_focused()
    expect(dialog.locator(".field-error", has_text="must have a length")).to_be_visible()
    until.fill("19:00")
    dialog.get_by_role("button", name="Create campaign").click()
    # And its 409, by the name.
    expect(dialog.get_by_text("A campaign with this name already exists.")).to_be_visible()
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    expect(until).not_to_have_attribute("aria-invalid", "true")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):  # no day at all: said before sending
        dialog.get_by_label(day, exact=True).uncheck()
    dialog.get_by_role("button", name="Create campaign").click()
    expect(dialog.get_by_text("Tick at least one day.")).to_be_visible()
    expect(dialog.get_by_label("Mon", exact=True)).to_be_focused()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        dialog.get_by_label(day, exact=True).check()
    dialog.get_by_label("Name", exact=True).fill("Spring renewals")
    dialog.get_by_role("button", name="Create campaign").click()

    expect(page.get_by_role("heading", name="Spring renewals", level=1)).to_be_focused()
    hours = page.locator(".facts dt:text-is('Calling hours') + dd")
    expect(hours).to_have_text(dashed("Mon-Fri 10:00-19:00"))
    found = re.search(r"#/campaigns/(\d+)$", page.url)
    assert found is not None
    campaign_id = int(found.group(1))
    stored = api.get(f"/v1/campaigns/{campaign_id}").json()
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    assert stored["calling_window"] == {"days": weekdays, "start": "10:00", "end": "19:00"}

    # The picker offers every group with its kind and scope.
    picker = page.get_by_label("Group", exact=True)
    expect(picker.locator("option")).to_have_text(
        [
            "National registry — block, global, consent overrides",
            "Consent 2026 — allow, attached only",
        ]
    )
    picker.select_option(str(consent))
    page.get_by_role("button", name="Attach", exact=True).click()
    attached = page.get_by_role("table", name="Groups attached to this campaign")
    expect(attached.get_by_role("link", name="Consent 2026")).to_be_focused()
    expect(page.locator("#status")).to_have_text("Attached “Consent 2026”.")
    expect(picker.locator("option")).to_have_count(1)
    campaign = api.get(f"/v1/campaigns/{campaign_id}").json()
    assert [g["id"] for g in campaign["allow_groups"]] == [consent]
    attached.get_by_role("button", name="Detach Consent 2026").click()
    expect(attached).to_contain_text("No group is attached")
    expect(picker).to_be_focused()  # where the group is offered again
    expect(picker.locator("option")).to_have_count(2)
    assert api.get(f"/v1/campaigns/{campaign_id}").json()["allow_groups"] == []
    picker.select_option(str(registry))
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(attached.get_by_role("link", name="National registry")).to_be_focused()
    campaign = api.get(f"/v1/campaigns/{campaign_id}").json()
    assert [g["id"] for g in campaign["block_groups"]] == [registry]

    # The calling hours changed in place (Sunday joins: Sun to Fri), then removed.
    page.get_by_label("Sun", exact=True).check()
    page.get_by_label("Until", exact=True).fill("20:00")
    page.get_by_role("button", name="Save calling hours").click()
    expect(hours).to_have_text(dashed("Sun-Fri 10:00-20:00"))
    window = api.get(f"/v1/campaigns/{campaign_id}").json()["calling_window"]
    assert window == {"days": [*weekdays, "sun"], "start": "10:00", "end": "20:00"}
    page.get_by_label("Only call within calling hours").uncheck()
    page.get_by_role("button", name="Save calling hours").click()
    expect(hours).to_have_text("Any time")
    expect(page.locator("#status")).to_contain_text("the campaign may call at any time")
    assert api.get(f"/v1/campaigns/{campaign_id}").json()["calling_window"] is None

    page.get_by_role("link", name="All campaigns").click()
    row = page.locator("tr", has=page.get_by_role("link", name="Spring renewals"))
    expect(row.locator("[data-label='Calling hours']")).to_have_text("Any time")
    expect(row.locator("[data-label='Block groups']")).to_have_text("National registry")
    expect(row.locator("[data-label='Allow groups']")).to_have_text("None")

    # Deleting asks first; the groups stay.
    row.get_by_role("link", name="Spring renewals").click()
    delete = page.get_by_role("button", name="Delete campaign")
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(delete).to_be_focused()
    assert api.get(f"/v1/campaigns/{campaign_id}").status_code == 200
    delete.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("its groups and their entries stay as they are")
    dialog.get_by_role("button", name="Delete campaign").click()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Spring renewals")).to_have_count(0)
    assert api.get(f"/v1/campaigns/{campaign_id}").status_code == 404
    assert api.get(f"/v1/groups/{registry}").status_code == 200


def test_a_campaign_check_gives_each_reason_and_the_next_callable_time(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    own = make_group(api, "Own DNC")
    registry = make_group(api, "National registry", consent_overrides=True)
    consent = make_group(api, "Consent 2026", kind="allow", scope="attached")
    api.post(f"/v1/groups/{own}/numbers", json={"numbers": ["9800000001"]})
    api.post(f"/v1/groups/{registry}/numbers", json={"numbers": ["9800000002", "98111*"]})
    api.post(f"/v1/groups/{consent}/numbers", json={"numbers": ["9800000002"]})
    window, opens = window_opening_in_two_hours()
    evening = make_campaign(api, "Evening", window, [consent])
    any_time = make_campaign(api, "Round the clock", None, [])
    zone = api.get("/v1/account").json()["timezone"]
    asked = api.get("/v1/check/9800000002", params={"campaign": evening}).json()
    assert asked["next_callable_at"] == opens.isoformat().replace("+00:00", "Z")
    callee_zones = asked["reasons"][1]["time_zones"]

    page = sign_in(tab, account)
    page.goto(f"{tab.origin}/ui#/campaigns/{evening}")
    page.get_by_role("link", name="Check a number for this campaign").click()
    campaign = page.get_by_label("Campaign")
    expect(campaign).to_have_value(str(evening))
    number = page.get_by_label("Phone number")
    verdict = page.locator(".verdict")
    reasons = verdict.locator(".reasons li")

    # Consent lifts the registry's block; the calling hours still stand, until they open.
    number.fill("9800000002")
    page.get_by_role("button", name="Check").click()
    expect(verdict.locator(".big")).to_have_text("Not callable")
    expect(reasons).to_have_count(2)
    expect(reasons.nth(0)).to_contain_text(
        "Consent in “Consent 2026” (entry +919800000002, never expires) overrides the block "
        "of “National registry” (entry +919800000002)."
    )
    expect(reasons.nth(0).locator(".reason-code")).to_have_text("consent_overrides_block")
    hours = every_day_hours(api.get(f"/v1/campaigns/{evening}").json()["calling_window"])
    expect(reasons.nth(1)).to_contain_text(
        f"Outside calling hours ({hours}) in {callee_zones[0]}, where it is "
    )
    expect(reasons.nth(1).locator(".reason-code")).to_have_text("outside_calling_hours")
    in_zone, in_utc = page.evaluate(
        """([iso, zone]) => [zone, "UTC"].map((timeZone) => new Intl.DateTimeFormat(undefined,
             {dateStyle: "medium", timeStyle: "short", timeZone}).format(new Date(iso)))""",
        [opens.isoformat(), zone],
    )
    expect(verdict.locator(".next-callable")).to_have_text(
        f"Next callable: {in_zone} ({zone}), {in_utc} (UTC)"
    )
    expect(reasons.nth(0).get_by_role("link", name="“Consent 2026”")).to_have_attribute(
        "href", f"#/groups/{consent}"
    )

    # A block consent may not lift is the whole answer: no next callable time.
    number.fill("9800000001")
    page.get_by_role("button", name="Check").click()
    expect(reasons).to_have_count(1)
    expect(reasons.first).to_contain_text(
        "Blocked by “Own DNC”, entry +919800000001, never expires."
    )
    expect(reasons.first.locator(".reason-code")).to_have_text("blocked")
    expect(verdict.locator(".next-callable")).to_have_count(0)
    number.fill("9811100005")  # under the registry's prefix, without consent
    page.get_by_role("button", name="Check").click()
    expect(reasons.first).to_contain_text("Blocked by “National registry”, prefix +9198111*")
    expect(reasons.first.locator(".reason-code")).to_have_text("blocked_by_prefix")

    campaign.select_option(label="Round the clock")
    number.fill("9800000009")
    page.get_by_role("button", name="Check").click()
    expect(verdict.locator(".big")).to_have_text("Callable")
    expect(verdict).to_contain_text("no list blocks it, and the campaign may call at any time")

    campaign.select_option("")  # no campaign: the check as it always was
    number.fill("9800000002")
    page.get_by_role("button", name="Check").click()
    expect(verdict.locator(".big")).to_have_text("Blocked")
    expect(verdict.get_by_role("link", name="National registry")).to_be_visible()

    # A campaign deleted since the page listed it: said by the picker.
    assert api.delete(f"/v1/campaigns/{any_time}").status_code == 204
    campaign.select_option(label="Round the clock")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("This campaign no longer exists.")).to_be_visible()
    expect(campaign).to_be_focused()
    expect(verdict).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_screen_or_dialog_breaks_wcag_21_aa(
    browser: Browser, site: Site, account: Credentials, api: httpx.Client, viewport: ViewportSize
) -> None:
    """axe-core's rules for WCAG 2.1 A and AA, on every screen, panel and dialog as it shows,
    at a desktop's size and a phone's."""
    with open_tab(browser, site.url, viewport=viewport) as tab:
        every_screen_and_dialog_is_clean(tab, site, account, api)
        assert tab.script_errors == []


def every_screen_and_dialog_is_clean(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui")
    expect(page.get_by_label("Username")).to_be_visible()
    assert accessibility_violations(page) == [], "sign-in"
    sign_in(tab, account)
    routes = screens(site, api)
    for name, route in routes.items():
        page.goto(f"{tab.origin}/ui{route}")
        settled(page, name)
        found = accessibility_violations(page)
        assert found == [], f"{name}:\n" + "\n".join(found)

    def dialog_is_clean(opener: str) -> None:
        page.get_by_role("button", name=opener).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        if dialog.get_by_label("Only call within calling hours").count():
            dialog.get_by_label("Only call within calling hours").check()
        found = accessibility_violations(page)
        assert found == [], f"{opener}:\n" + "\n".join(found)
        dialog.get_by_role("button", name="Cancel").click()

    # The upload's choices, each as it shows, and the guard's refusal.
    page.goto(f"{tab.origin}/ui{routes['group']}")
    settled(page, "group")
    open_panel(page, "Upload a file")
    page.locator("summary", has_text="Columns").click()
    for choice in ("Replace the group with the file", "Apply a change list (A/D lines)"):
        page.get_by_role("radio", name=choice).check()
        found = accessibility_violations(page)
        assert found == [], f"{choice}:\n" + "\n".join(found)
    page.get_by_role("radio", name="Replace the group with the file").check()
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "short.txt", "mimeType": "text/plain", "buffer": b"9876543210\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("This file would remove")).to_be_focused()
    found = accessibility_violations(page)
    assert found == [], "a refused replace:\n" + "\n".join(found)
    # The Add panel, its field errors, and the dialogs of one entry and of a removal.
    open_panel(page, "Add numbers")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_label("Numbers or prefixes")).to_have_attribute("aria-invalid", "true")
    found = accessibility_violations(page)
    assert found == [], "the Add panel:\n" + "\n".join(found)
    dialog_is_clean("Edit +91 98765 43210")
    page.get_by_label("Select +91 98765 43210").check()
    dialog_is_clean("Remove selected (1)")

    page.goto(f"{tab.origin}/ui#/groups")
    settled(page, "groups")
    dialog_is_clean("New group")
    dialog_is_clean("Change Screens")
    page.goto(f"{tab.origin}/ui#/campaigns")
    settled(page, "campaigns")
    dialog_is_clean("New campaign")
    page.goto(f"{tab.origin}/ui#/keys")
    settled(page, "keys")
    dialog_is_clean("Issue a key")
    page.goto(f"{tab.origin}/ui{routes['campaign']}")
    settled(page, "campaign")
    dialog_is_clean("Change name or description")
    dialog_is_clean("Delete campaign")
    # The field errors, as they show.
    page.get_by_label("Until", exact=True).fill(page.get_by_label("From", exact=True).input_value())
    page.get_by_role("button", name="Save calling hours").click()
    expect(page.get_by_label("Until", exact=True)).to_have_attribute("aria-invalid", "true")
    found = accessibility_violations(page)
    assert found == [], "a calling-hours error:\n" + "\n".join(found)


# --- for everyone, on any screen ---------------------------------------------------------------


def test_the_keyboard_alone_signs_in_creates_a_group_and_adds_a_number(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(account.key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_focused()

    # Back from the heading through the bar to the navigation's Groups.
    groups = page.get_by_role("link", name="Groups", exact=True)
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if groups.evaluate("link => link === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Groups", level=1)).to_be_focused()
    page.keyboard.press("Tab")  # from the heading, the next stop is New group
    expect(page.get_by_role("button", name="New group")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("Keyboard group")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard group", level=1)).to_be_focused()
    page.keyboard.press("Tab")  # the page opens on its entries: Add numbers opens a panel
    expect(page.get_by_role("button", name="Add numbers")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Numbers or prefixes")).to_be_focused()
    page.keyboard.type("9876543210")
    page.keyboard.press("Tab")
    while not page.get_by_role("button", name="Add", exact=True).evaluate(
        "b => b === document.activeElement"
    ):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Added 1, updated 0.")).to_be_visible()
    group_id = api.get("/v1/groups").json()["data"][0]["id"]
    assert set(entries_of(api, group_id)) == {"+919876543210"}


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((control) => control.offsetParent !== null || control.closest('dialog[open]'))
  .filter((control) => {
    const named = control.labels?.length || control.getAttribute('aria-label')
      || control.getAttribute('aria-labelledby')
      || (control.tagName === 'BUTTON' && control.textContent.trim());
    return !named;
  })
  .map((control) => control.outerHTML)"""


def screens(site: Site, api: httpx.Client) -> dict[str, str]:
    group_id = make_group(api, "Screens")
    api.post(f"/v1/groups/{group_id}/numbers", json={"numbers": ["9876543210", "140*"]})
    consent = make_group(api, "Screen consent", kind="allow", scope="attached")
    api.post(f"/v1/groups/{consent}/numbers", json={"numbers": ["9812345678"]})
    registry = make_group(api, "Screen registry", consent_overrides=True)
    api.post(f"/v1/groups/{registry}/numbers", json={"numbers": ["9812345678"]})
    window, _ = window_opening_in_two_hours()
    campaign = make_campaign(api, "Screen campaign", window, [consent])
    # Checks for the dashboard to chart: single ones (two blocked) and a batch.
    for number in ("9876543210", "01401234567", "9800000001"):
        assert api.get(f"/v1/check/{number}").status_code == 200
    assert api.post("/v1/check", json={"numbers": ["9812345678", "9800000002"]}).is_success
    return {
        "dashboard": "#/dashboard",
        "groups": "#/groups",
        "group": f"#/groups/{group_id}",
        "campaigns": "#/campaigns",
        "campaign": f"#/campaigns/{campaign}",
        "check": "#/check",
        "check-campaign": f"#/check?campaign={campaign}",
        "history": "#/history",
        "keys": "#/keys",
    }


def settled(page: Page, screen: str) -> None:
    """Until the screen shows what it loads (a check shows its verdict once asked; the
    dashboard the checks ``screens`` made, charted, with the tables behind the charts open)."""
    if screen == "dashboard":
        top = page.get_by_role("table", name=re.compile("^Entries matched most"))
        expect(top).to_contain_text("+91 98765 43210", timeout=10_000)  # counted, then polled
        expect(page.locator("main table.list[aria-busy]")).to_have_count(0)
        for disclosure in page.locator("main details.as-table").all():
            if disclosure.get_attribute("open") is None:
                disclosure.locator("summary").click()
        expect(page.locator("main details.as-table table.list").first).to_be_visible()
    elif screen == "check":
        page.get_by_label("Phone number").fill("01401234567")
        page.get_by_role("button", name="Check").click()
        expect(page.locator(".verdict")).to_contain_text("Blocked")
    elif screen == "check-campaign":
        expect(page.get_by_label("Campaign")).to_have_value(re.compile(r"\d+"))
        page.get_by_label("Phone number").fill("9812345678")
        page.get_by_role("button", name="Check").click()
        expect(page.locator(".verdict")).to_contain_text("Not callable")
        expect(page.locator(".reasons li")).to_have_count(2)
    else:
        expect(page.locator("main table.list tbody tr td").first).to_be_visible()
        expect(page.locator("main table.list[aria-busy]")).to_have_count(0)


def test_every_control_has_a_label_on_every_screen(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui")
    expect(page.get_by_label("Username")).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    sign_in(tab, account)
    for name, route in screens(site, api).items():
        page.goto(f"{tab.origin}/ui{route}")
        settled(page, name)
        assert page.evaluate(UNLABELLED_CONTROLS) == [], name
        assert page.locator("main h1").count() == 1, name
    page.goto(f"{tab.origin}/ui#/groups")
    page.get_by_role("button", name="Change Screens").click()
    assert page.evaluate(UNLABELLED_CONTROLS) == []


def test_every_screen_fits_a_phone(
    browser: Browser, site: Site, account: Credentials, api: httpx.Client
) -> None:
    with open_tab(browser, site.url, viewport=PHONE) as tab:
        page = sign_in(tab, account)
        for name, route in screens(site, api).items():
            page.goto(f"{tab.origin}/ui{route}")
            settled(page, name)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name}: {width} px wide"
            # Tables turn into cards: each value keeps its column's name beside it.
            for header in page.locator("main table.list thead").all():
                box = header.bounding_box()
                assert box is None or box["width"] <= 1, name
        assert tab.script_errors == []
        assert tab.foreign_requests == []


def test_an_unknown_group_says_so(tab: Tab, account: Credentials) -> None:
    page = sign_in(tab, account)
    page.goto(f"{tab.origin}/ui#/groups/999999")
    expect(page.get_by_role("heading", name="No such group")).to_be_visible()
    expect(page.get_by_role("link", name="Back to all groups")).to_be_visible()


def test_the_groups_list_says_when_a_registry_was_refreshed_and_when_to_renew_it(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    """An upload records the file's name; the groups list says when and from which file,
    and marks a registry refreshed 28 days ago or more (US data may be used for 31)."""
    fresh = make_group(api, "Fresh registry")
    stale = make_group(api, "Stale registry")
    page = open_group(tab, account, fresh)
    open_panel(page, "Upload a file")
    page.get_by_label("CSV or text file").set_input_files(
        {"name": "dnc-2026-12.csv", "mimeType": "text/csv", "buffer": b"9876543210\n"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".upload-result")).to_contain_text("dnc-2026-12.csv")
    assert api.get(f"/v1/groups/{fresh}").json()["refreshed_from"] == "dnc-2026-12.csv"
    imported = api.post(
        f"/v1/groups/{stale}/numbers:import",
        params={"file_name": "dnc-2026-10.csv"},
        content=b"9876543211\n",
    )
    assert imported.status_code == 200, imported.text
    engine = create_engine(site.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(groups)
                .where(groups.c.id == stale)
                .values(refreshed_at=datetime.now(UTC) - timedelta(days=30))
            )
    finally:
        engine.dispose()
    page.get_by_role("link", name="Groups", exact=True).click()
    row = page.locator("tr", has=page.get_by_role("link", name="Fresh registry", exact=True))
    expect(row.locator("[data-label='Last change'] .sub")).to_have_text(
        "Refreshed today from dnc-2026-12.csv"
    )
    row = page.locator("tr", has=page.get_by_role("link", name="Stale registry", exact=True))
    expect(row.locator("[data-label='Last change'] .sub.stale")).to_have_text(
        "Refreshed 30 days ago from dnc-2026-10.csv: renew it (registry data may be used for "
        "31 days)"
    )


# --- the dashboard -----------------------------------------------------------------------------

# Policy violations, as the page itself is told of them (a style or script the policy stopped).
RECORD_POLICY_VIOLATIONS = """window.policyViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.policyViolations.push(`${event.violatedDirective}: ${event.blockedURI}`));"""


def test_the_dashboard_shows_checks_within_seconds_and_switches_its_range(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group_id = make_group(api, "Do not call")
    numbers = {"numbers": ["9876543210", "140*"]}
    assert api.post(f"/v1/groups/{group_id}/numbers", json=numbers).is_success
    make_group(api, "Quiet list")  # matches nothing
    tab.page.add_init_script(RECORD_POLICY_VIOLATIONS)
    page = sign_in(tab, account)
    share = page.locator("main .big-number")
    expect(share).to_have_text("\u2013")  # no checks yet: no share
    expect(page.get_by_text("No checks in the last hour yet.")).to_be_visible()

    # Seven single checks, three blocked (the number twice, once by the prefix), and a batch
    # of three, one blocked: ten checks, four blocked.
    for number in (
        "9876543210",
        "09876543210",
        "01401234567",
        "9800000001",
        "9800000002",
        "+44 20 7946 0958",
        "9800000003",
    ):
        assert api.get(f"/v1/check/{number}").status_code == 200
    batch = api.post("/v1/check", json={"numbers": ["+91 98765 43210", "9800000004", "9800000005"]})
    assert [result["blocked"] for result in batch.json()["results"]] == [True, False, False]
    # Counted every half second, drawn again every five: on the screen within a few seconds.
    expect(share).to_have_text("40%", timeout=10_000)
    totals = page.locator("main .share-card dl")
    expect(totals.locator("dt:text-is('Checks') + dd")).to_have_text("10")
    expect(totals.locator("dt:text-is('Blocked') + dd")).to_have_text("4")
    expect(page.get_by_text("4 of 10 checks blocked in the last hour.")).to_be_visible()

    # Each chart is hidden from screen readers; its data is a table behind "Show as table",
    # opened from the keyboard.
    charts = page.locator("main .chart")
    expect(charts).to_have_count(2)
    for chart in charts.all():
        expect(chart).to_have_attribute("aria-hidden", "true")
        expect(chart.locator("canvas").first).to_be_visible()
    for summary in page.locator("main details.as-table summary").all():
        summary.focus()
        page.keyboard.press("Enter")
    over_time = page.get_by_role("table", name=re.compile("^Checks and blocked per minute"))
    expect(over_time).to_be_visible()
    total = over_time.locator("tfoot tr")
    expect(total.locator("th")).to_have_text("Total")
    expect(total.locator("[data-label=Checks]")).to_have_text("10")
    expect(total.locator("[data-label=Blocked]")).to_have_text("4")
    per_minute = over_time.locator("tbody [data-label=Checks]").all_inner_texts()
    assert sum(int(text) for text in per_minute) == 10  # one minute, or two if it turned
    by_group = page.get_by_role("table", name=re.compile("^Checks each group matched"))
    expect(by_group.locator("tbody tr")).to_have_count(1)  # the quiet list is left out
    row = by_group.locator("tbody tr").first
    expect(row.get_by_role("link", name="Do not call")).to_have_attribute(
        "href", f"#/groups/{group_id}"
    )
    expect(row.locator("[data-label=Matched]")).to_have_text("4")
    top = page.get_by_role("table", name=re.compile("^Entries matched most"))
    rows = top.locator("tbody tr")
    expect(rows).to_have_count(2)
    # Single checks only: the batch's match of the number is not an entry's hit.
    expect(rows.nth(0).locator("th")).to_have_text("+91 98765 43210")
    expect(rows.nth(0).locator("[data-label=Group]")).to_have_text("Do not call")
    expect(rows.nth(0).locator("[data-label=Hits]")).to_have_text("2")
    expect(rows.nth(1).locator("th")).to_have_text("+91 140*")
    expect(rows.nth(1).locator("[data-label=Hits]")).to_have_text("1")

    # The range: a radio group, each choice a 44 px target, moved along with the arrow keys.
    last_hour = page.get_by_role("radio", name="Last hour")
    expect(last_hour).to_be_checked()
    for label in page.locator("main fieldset.segmented label").all():
        box = label.bounding_box()
        assert box is not None
        assert box["height"] >= 44
    last_hour.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Last day")).to_be_checked()
    expect(page.get_by_role("radio", name="Last day")).to_be_focused()
    expect(page.get_by_role("heading", name="Blocked share, last day")).to_be_visible()
    per_hour = page.get_by_role("table", name=re.compile("^Checks and blocked per hour"))
    expect(per_hour.locator("tfoot [data-label=Checks]")).to_have_text("10")
    page.get_by_role("radio", name="Last month").check()
    per_day = page.get_by_role("table", name=re.compile("^Checks and blocked per day"))
    expect(per_day.locator("tfoot [data-label=Blocked]")).to_have_text("4")
    # One UTC day, or two when the checks straddled midnight: the total holds either way.
    assert per_day.locator("tbody tr").count() in (1, 2)
    expect(share).to_have_text("40%")

    # The groups list: each group's matches over the last 24 hours.
    page.get_by_role("link", name="Groups", exact=True).click()
    matched = page.locator("tr", has=page.get_by_role("link", name="Do not call", exact=True))
    expect(matched.locator("[data-label='Matched (24 h)']")).to_have_text("4")
    quiet = page.locator("tr", has=page.get_by_role("link", name="Quiet list", exact=True))
    expect(quiet.locator("[data-label='Matched (24 h)']")).to_have_text("0")
    # The dashboard no longer shows: it asks no more.
    asked = len([url for url in tab.requests if "/v1/stats" in url])
    page.wait_for_timeout(6_000)
    assert len([url for url in tab.requests if "/v1/stats" in url]) == asked

    # At a phone's width the charts shrink to their cards.
    page.get_by_role("link", name="Dashboard").click()
    expect(share).to_have_text("40%")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        """() => [...document.querySelectorAll('main .chart')].every((chart) => {
             const canvas = chart.querySelector('canvas');
             return canvas && canvas.getBoundingClientRect().width <= chart.clientWidth
               && chart.clientWidth < 390; })"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("window.policyViolations") == []
