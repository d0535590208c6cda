"""Where the focus lands after each action of the admin page (all but a group's own page): on
what the action changed, or on the message that tells how it ended; a dialog cancelled gives
it back to the button that opened it. Never on the page itself (<body>), where a button
disabled while its request runs, or a dialog that closes, would otherwise leave it.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests import test_web
from tests.browser import Tab
from tests.helpers import Credentials
from tests.test_web import Site, make_campaign, make_group, open_groups, showing, sign_in

pytestmark = [pytest.mark.server, pytest.mark.browser]

# The page tests' fixtures, here by the names the tests below ask for: a browser and a server
# (on each engine) for the module, a new account, a tab and a client of /v1 for each test.
browser = test_web.browser
site = test_web.site
account = test_web.account
tab = test_web.tab
api = test_web.api

ON_BODY = "document.activeElement === null || document.activeElement === document.body"


def focus_is_on(page: Page, target: Locator) -> None:
    """The focus is on ``target`` (waited for), and so not on the page itself."""
    expect(target).to_be_focused()
    assert not page.evaluate(ON_BODY), "the focus is on <body>"


def cut_off(page: Page, pattern: str) -> None:
    """Requests to ``pattern`` fail as if the network were down, until let through again."""
    page.route(pattern, lambda route: route.abort())


# --- groups -------------------------------------------------------------------------------------


def test_new_group_lands_on_its_heading_and_cancel_on_the_button(
    tab: Tab, account: Credentials
) -> None:
    page = open_groups(tab, account)
    new = page.get_by_role("button", name="New group")
    new.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    focus_is_on(page, new)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New group")
    focus_is_on(page, dialog.get_by_label("Name", exact=True))
    page.keyboard.type("Focus made")
    page.keyboard.press("Enter")
    focus_is_on(page, page.get_by_role("heading", name="Focus made", level=1))


def test_changing_a_group_from_the_list_lands_on_its_rows_change_button(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    make_group(api, "Before")
    page = open_groups(tab, account)
    change = page.get_by_role("button", name="Change Before")
    change.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    focus_is_on(page, change)
    change.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("After")
    dialog.get_by_role("button", name="Save").click()
    # The row drawn anew: its button, named for the new name.
    focus_is_on(page, page.get_by_role("button", name="Change After"))


def test_deleting_a_group_from_the_list_lands_on_the_list(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    make_group(api, "Kept")
    make_group(api, "Doomed")
    page = open_groups(tab, account)
    delete = page.get_by_role("button", name="Delete Doomed")
    delete.click()
    page.keyboard.press("Escape")
    focus_is_on(page, delete)
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete group").click()
    focus_is_on(page, page.get_by_role("table", name="Your groups"))
    expect(page.get_by_role("link", name="Doomed")).to_have_count(0)
    expect(page.get_by_role("link", name="Kept")).to_be_visible()


def test_paging_the_groups_lands_on_the_position_between_the_buttons(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    for number in range(51):
        make_group(api, f"Paged {number:02}")
    page = open_groups(tab, account)
    pager = page.get_by_role("navigation", name="Pages of groups")
    position = pager.locator(".position")
    expect(position).to_have_text(showing("1", "50", "51"))
    pager.get_by_role("button", name="Next page").click()
    focus_is_on(page, position)
    expect(position).to_have_text(showing("51", "51", "51"))
    page.keyboard.press("Shift+Tab")  # a step back to Previous, and on with the keyboard
    focus_is_on(page, pager.get_by_role("button", name="Previous page"))
    page.keyboard.press("Enter")
    focus_is_on(page, position)
    expect(position).to_have_text(showing("1", "50", "51"))


# --- campaigns ----------------------------------------------------------------------------------


def test_new_campaign_lands_on_its_heading_and_cancel_on_the_button(
    tab: Tab, account: Credentials
) -> None:
    page = sign_in(tab, account)
    page.get_by_role("link", name="Campaigns").click()
    new = page.get_by_role("button", name="New campaign")
    new.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    focus_is_on(page, new)
    new.click()
    dialog = page.get_by_role("dialog", name="New campaign")
    dialog.get_by_label("Name", exact=True).fill("Focus drive")
    dialog.get_by_role("button", name="Create campaign").click()
    focus_is_on(page, page.get_by_role("heading", name="Focus drive", level=1))


def open_campaign(tab: Tab, account: Credentials, campaign_id: int, name: str) -> Page:
    page = sign_in(tab, account)
    page.goto(f"{tab.origin}/ui#/campaigns/{campaign_id}")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_focused()
    return page


def test_renaming_a_campaign_lands_on_its_heading_and_cancel_on_the_button(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    campaign = make_campaign(api, "Old name", None, [])
    page = open_campaign(tab, account, campaign, "Old name")
    change = page.get_by_role("button", name="Change name or description")
    change.click()
    page.keyboard.press("Escape")
    focus_is_on(page, change)
    change.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("New name")
    dialog.get_by_label("Description (optional)").fill("Renamed")
    page.keyboard.press("Enter")
    focus_is_on(page, page.get_by_role("heading", name="New name", level=1))


def test_saving_calling_hours_lands_on_them_in_the_summary_or_on_what_went_wrong(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    campaign = make_campaign(api, "Hours", None, [])
    page = open_campaign(tab, account, campaign, "Hours")
    hours = page.locator(".facts div", has=page.locator("dt", has_text="Calling hours"))
    save = page.get_by_role("button", name="Save calling hours")
    page.get_by_label("Only call within calling hours").check()
    page.get_by_label("From", exact=True).fill("10:00")
    until = page.get_by_label("Until", exact=True)
    until.fill("10:00")
    save.click()  # the server's refusal, by its field
    focus_is_on(page, until)
    until.fill("19:00")
    cut_off(page, "**/v1/campaigns/*")
    save.click()
    problem = page.get_by_role("alert").filter(has_text="cannot be reached")
    focus_is_on(page, problem)
    page.unroute("**/v1/campaigns/*")
    save.focus()
    page.keyboard.press("Enter")
    focus_is_on(page, hours)
    expect(hours).to_contain_text("10:00\u201319:00")


def test_attaching_a_group_lands_on_its_row_or_on_what_went_wrong(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    make_group(api, "Attachable", kind="allow", scope="attached")
    campaign = make_campaign(api, "Attaching", None, [])
    page = open_campaign(tab, account, campaign, "Attaching")
    attach = page.get_by_role("button", name="Attach", exact=True)
    cut_off(page, "**/v1/campaigns/*/groups")
    attach.click()
    focus_is_on(page, page.get_by_role("alert").filter(has_text="cannot be reached"))
    page.unroute("**/v1/campaigns/*/groups")
    attach.click()
    attached = page.get_by_role("table", name="Groups attached to this campaign")
    focus_is_on(page, attached.get_by_role("link", name="Attachable"))


def test_detaching_a_group_lands_on_the_picker_offering_it_again(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group = make_group(api, "Detachable", kind="allow", scope="attached")
    campaign = make_campaign(api, "Detaching", None, [group])
    page = open_campaign(tab, account, campaign, "Detaching")
    detach = page.get_by_role("button", name="Detach Detachable")
    cut_off(page, "**/v1/campaigns/*/groups/*")
    detach.click()
    focus_is_on(page, page.get_by_role("alert").filter(has_text="cannot be reached"))
    page.unroute("**/v1/campaigns/*/groups/*")
    detach.focus()
    page.keyboard.press("Enter")
    picker = page.get_by_label("Group", exact=True)
    focus_is_on(page, picker)
    expect(picker.locator("option")).to_have_text(["Detachable — allow, attached only"])


def test_deleting_a_campaign_lands_on_the_campaigns_heading_and_cancel_on_the_button(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    campaign = make_campaign(api, "Short lived", None, [])
    page = open_campaign(tab, account, campaign, "Short lived")
    delete = page.get_by_role("button", name="Delete campaign")
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    focus_is_on(page, delete)
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete campaign").click()
    focus_is_on(page, page.get_by_role("heading", name="Campaigns", level=1))
    expect(page.get_by_role("link", name="Short lived")).to_have_count(0)


# --- keys ---------------------------------------------------------------------------------------


def admin_on_keys(tab: Tab, account: Credentials, api: httpx.Client) -> Page:
    admin = api.post("/v1/keys", json={"label": "Admin", "scopes": ["admin", "read"]}).json()
    page = sign_in(tab, Credentials(account.username, admin["key"]))
    page.get_by_role("link", name="Keys").click()
    expect(page.locator("main tbody tr", has_text="The key you are signed in with")).to_be_visible()
    return page


def test_issuing_a_key_lands_on_the_key_then_copy_and_done_keep_the_focus_in_reach(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.origin)
    page = admin_on_keys(tab, account, api)
    issue = page.get_by_role("button", name="Issue a key")
    issue.click()
    page.keyboard.press("Escape")
    focus_is_on(page, issue)
    issue.click()
    issuing = page.get_by_role("dialog", name="Issue a key")
    issuing.get_by_label("Label").fill("Dialer")
    issuing.get_by_role("checkbox", name="Check").uncheck()
    issuing.get_by_role("button", name="Issue key").click()  # no scope: said before sending
    focus_is_on(page, issuing.get_by_role("checkbox", name="Check"))
    page.keyboard.press("Space")
    issuing.get_by_role("button", name="Issue key").click()
    shown = page.get_by_role("dialog", name="Key issued")
    key = shown.get_by_label("The new key")
    focus_is_on(page, key)  # the one thing to take from here, shown this once
    copy = shown.get_by_role("button", name="Copy key")
    copy.click()
    expect(shown.get_by_text("Copied.")).to_be_visible()
    focus_is_on(page, copy)
    assert page.evaluate("navigator.clipboard.readText()") == key.input_value()
    shown.get_by_role("button", name="Done").click()
    focus_is_on(page, issue)
    expect(page.locator("main tbody tr", has_text="Dialer")).to_be_visible()


def test_a_copy_the_browser_refuses_lands_on_the_key_selected(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    page = admin_on_keys(tab, account, api)
    page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('refused')); }"
    )
    page.get_by_role("button", name="Issue a key").click()
    page.get_by_role("dialog").get_by_role("button", name="Issue key").click()
    shown = page.get_by_role("dialog", name="Key issued")
    shown.get_by_role("button", name="Copy key").click()
    expect(shown.get_by_text("Selected: press Ctrl+C")).to_be_visible()
    key = shown.get_by_label("The new key")
    focus_is_on(page, key)
    selected = key.evaluate("input => input.value.slice(input.selectionStart, input.selectionEnd)")
    assert selected == key.input_value()


def test_revoking_a_key_lands_on_its_row_and_cancel_on_the_button(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    api.post("/v1/keys", json={"label": "Old dialer", "scopes": ["check"]})
    page = admin_on_keys(tab, account, api)
    revoke = page.get_by_role("button", name="Revoke Old dialer")
    revoke.click()
    page.keyboard.press("Escape")
    focus_is_on(page, revoke)
    revoke.click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    row = page.locator("main tbody tr", has_text="Old dialer")
    focus_is_on(page, row)
    expect(row.locator("[data-label=State]")).to_contain_text("Revoked")


# --- check --------------------------------------------------------------------------------------


def test_checking_lands_on_the_verdict_or_on_what_went_wrong(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group = make_group(api, "Checked")
    api.post(f"/v1/groups/{group}/numbers", json={"numbers": ["9876543210"]})
    campaign = make_campaign(api, "Checking", None, [])
    page = sign_in(tab, account)
    page.get_by_role("link", name="Check", exact=True).click()
    number = page.get_by_label("Phone number")
    check = page.get_by_role("button", name="Check", exact=True)
    number.fill("12")
    check.click()
    focus_is_on(page, number)  # not a number: the field, with its error
    number.fill("9876543210")
    check.click()
    verdict = page.locator(".verdict")
    focus_is_on(page, verdict)
    expect(verdict).to_contain_text("Blocked")
    number.fill("9800000009")
    number.press("Enter")  # from the field, with the keyboard
    focus_is_on(page, verdict)
    expect(verdict).to_contain_text("Not blocked")
    page.get_by_label("Campaign").select_option(str(campaign))
    check.click()
    focus_is_on(page, verdict)
    expect(verdict).to_contain_text("Callable")
    cut_off(page, "**/v1/check/*")
    check.click()
    focus_is_on(page, page.get_by_role("alert").filter(has_text="cannot be reached"))


# --- history ------------------------------------------------------------------------------------


def test_showing_the_history_lands_on_the_changes_it_lists_or_on_the_mistake(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group = make_group(api, "Audited")
    api.post(f"/v1/groups/{group}/numbers", json={"numbers": ["9876543210"]})
    page = sign_in(tab, account)
    page.get_by_role("link", name="History").click()
    table = page.get_by_role("table", name="Changes, newest first")
    expect(table.locator("tbody tr")).to_have_count(2)
    number = page.get_by_label("Number", exact=True)
    number.fill("9876543210")
    page.get_by_role("button", name="Show").click()
    focus_is_on(page, table)
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Show").click()  # the same filters again: no new address
    focus_is_on(page, table)
    page.get_by_label("Number", exact=True).fill("not a number")
    page.get_by_label("Number", exact=True).press("Enter")
    focus_is_on(page, page.get_by_label("Number", exact=True))
    expect(page.get_by_text("Not a valid phone number.")).to_be_visible()
    page.get_by_label("Number", exact=True).fill("")
    page.get_by_label("From", exact=True).fill("2026-02-02")
    to = page.get_by_role("textbox", name="To", exact=True)
    to.fill("2026-02-01")
    page.get_by_role("button", name="Show").click()
    focus_is_on(page, to)  # said before asking: To is before From


def test_paging_the_history_lands_on_the_position_between_the_buttons(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    group = make_group(api, "Busy")
    for number in range(50):  # with the group's creation, 51 changes
        api.post(f"/v1/groups/{group}/numbers", json={"numbers": [f"98000{number:05}"]})
    page = sign_in(tab, account)
    page.get_by_role("link", name="History").click()
    pager = page.get_by_role("navigation", name="Pages of history")
    position = pager.locator(".position")
    expect(position).to_have_text(showing("1", "50", "51"))
    next_page = pager.get_by_role("button", name="Next page")
    next_page.focus()
    page.keyboard.press("Enter")
    focus_is_on(page, position)
    expect(position).to_have_text(showing("51", "51", "51"))
    pager.get_by_role("button", name="Previous page").click()
    focus_is_on(page, position)
    expect(position).to_have_text(showing("1", "50", "51"))


# --- signing in and out -------------------------------------------------------------------------


def test_signing_in_lands_on_the_heading_of_the_screen_asked_for(
    tab: Tab, account: Credentials
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui#/campaigns")
    username = page.get_by_label("Username")
    focus_is_on(page, username)
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type("cbk_" + "x" * 43)
    page.keyboard.press("Enter")
    key = page.get_by_label("API key")
    focus_is_on(page, key)  # refused: the key again, to type over
    expect(page.get_by_role("alert")).to_have_text("Wrong username or API key.")
    assert key.evaluate("input => input.selectionEnd - input.selectionStart") == 47
    page.keyboard.type(account.key)
    page.get_by_role("button", name="Sign in").click()
    focus_is_on(page, page.get_by_role("heading", name="Campaigns", level=1))


def test_a_sign_in_that_cannot_reach_the_server_lands_on_the_message(
    tab: Tab, account: Credentials
) -> None:
    page = tab.page
    page.goto(tab.origin + "/ui")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("API key").fill(account.key)
    cut_off(page, "**/v1/account")
    page.get_by_role("button", name="Sign in").click()
    focus_is_on(page, page.get_by_role("alert").filter(has_text="cannot be reached"))


def test_signing_out_lands_on_the_username_of_the_sign_in_form(
    tab: Tab, account: Credentials
) -> None:
    page = sign_in(tab, account)
    sign_out = page.get_by_role("button", name="Sign out")
    sign_out.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    focus_is_on(page, page.get_by_label("Username"))


def test_signing_in_again_lands_back_on_the_button_the_refusal_came_from(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    campaign = make_campaign(api, "Interrupted", None, [])
    page = open_campaign(tab, account, campaign, "Interrupted")
    site.revoke_keys(account.username)
    time.sleep(1.2)  # other processes stop accepting a revoked key within a second
    save = page.get_by_role("button", name="Save calling hours")
    save.click()
    again = page.get_by_role("dialog", name="Sign in again")
    again.get_by_label("API key").fill(site.new_key(account.username))
    again.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    focus_is_on(page, save)  # to send it once more


def test_signing_in_again_as_someone_else_lands_on_the_heading_of_their_screen(
    tab: Tab, site: Site, account: Credentials, api: httpx.Client
) -> None:
    campaign = make_campaign(api, "Not theirs", None, [])
    page = open_campaign(tab, account, campaign, "Not theirs")
    site.revoke_keys(account.username)
    time.sleep(1.2)
    page.get_by_role("button", name="Save calling hours").click()
    other = site.new_account()
    again = page.get_by_role("dialog", name="Sign in again")
    again.get_by_label("Username").fill(other.username)
    again.get_by_label("API key").fill(other.key)
    again.get_by_role("button", name="Sign in").click()
    # Their page: the address names a campaign of the first account, which they cannot see.
    focus_is_on(page, page.get_by_role("heading", name=re.compile("No such campaign"), level=1))


def test_a_dialog_whose_request_fails_lands_on_its_message(
    tab: Tab, account: Credentials, api: httpx.Client
) -> None:
    """An error no field is to blame for (the network down): the dialog's own message."""
    make_group(api, "Focus failing")
    page = open_groups(tab, account)
    page.get_by_role("button", name="Change Focus failing").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Description (optional)").fill("changed")
    cut_off(page, "**/v1/groups/*")
    dialog.get_by_role("button", name="Save").click()
    message = dialog.locator(".form-error[role=alert]")
    expect(message).to_be_visible()
    focus_is_on(page, message)
