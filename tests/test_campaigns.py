"""Campaigns: the precedence table of docs/api.md ("The campaign check"), row by row, in
the service on both engines and over HTTP; and what a campaign is made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from callblock.calling_hours import window_from_text
from callblock.domain import (
    Actor,
    CampaignById,
    CampaignByName,
    CampaignNotFound,
    Direction,
    GroupById,
    GroupKind,
    GroupKindMismatch,
    GroupScope,
    InvalidInput,
    RequestedNumber,
    Surface,
)
from callblock.service import Service
from callblock.store import Store
from tests.helpers import Credentials, FakeClock, bearer, problem, snapshot

# The clock fixture's instant, 2026-06-01 12:00 UTC (a Monday), is 17:30 in India.
INSIDE = window_from_text("mon-sat", "09:00-21:00")
OUTSIDE = window_from_text("mon-sat", "09:00-17:00")  # closed at 17:30; opens at 09:00 IST
NEXT_OPEN = datetime(2026, 6, 2, 3, 30, tzinfo=UTC)  # Tuesday 09:00 in India

OWN = "+919800000001"  # on the company's own do-not-call list (consent may not override)
REGISTRY = "+919800000002"  # on the national registry (consent may override)
CONSENTED = "+919800000003"  # on the registry, and in the consent group
OWN_AND_CONSENTED = "+919800000004"  # on the own list and in the consent group
LAPSED = "+919800000005"  # on the registry; its consent expired
CLEAN = "+919800000006"  # on no list
PREFIXED = "+919811000007"  # under a registry prefix
ATTACHED_ONLY = "+919800000008"  # in an attached block group only
OTHER_CONSENT = "+919800000009"  # on the registry; consent only in another campaign's group


@dataclass(frozen=True)
class Row:
    """One row of the precedence table: a number, the campaign's window, the answer."""

    name: str
    number: str
    window: str  # "inside", "outside" or "none"
    callable: bool
    codes: list[str]
    next_callable: bool = False


TABLE = [
    Row("non-overridable block wins over consent", OWN_AND_CONSENTED, "inside", False, ["blocked"]),
    Row("non-overridable block wins over the window", OWN, "outside", False, ["blocked"]),
    Row("consent overrides the registry", CONSENTED, "inside", True, ["consent_overrides_block"]),
    Row("registry without consent blocks", REGISTRY, "inside", False, ["blocked"]),
    Row("registry prefix blocks", PREFIXED, "inside", False, ["blocked_by_prefix"]),
    Row("expired consent lifts nothing", LAPSED, "inside", False, ["blocked"]),
    Row("another campaign's consent lifts nothing", OTHER_CONSENT, "inside", False, ["blocked"]),
    Row("an attached block group blocks", ATTACHED_ONLY, "inside", False, ["blocked"]),
    Row("nothing blocks, inside the window", CLEAN, "inside", True, []),
    Row("nothing blocks, no window", CLEAN, "none", True, []),
    Row(
        "nothing blocks, outside the window",
        CLEAN,
        "outside",
        False,
        ["outside_calling_hours"],
        next_callable=True,
    ),
    Row(
        "consent lifts the block, the window still applies",
        CONSENTED,
        "outside",
        False,
        ["consent_overrides_block", "outside_calling_hours"],
        next_callable=True,
    ),
]


def _actor(service: Service) -> Actor:
    return Actor(service.account("main"), None, Surface.V1)


def _numbers(*e164: str) -> list[RequestedNumber]:
    return [RequestedNumber(n, n) for n in e164]


def _lists(service: Service, clock: FakeClock) -> dict[str, int]:
    """The account's lists, as the new-user story sets them up; their ids by role."""
    actor = _actor(service)
    own = service.create_group(actor, "Own DNC", "", _numbers(OWN, OWN_AND_CONSENTED), None)
    registry = service.create_group(
        actor,
        "National registry",
        "",
        _numbers(REGISTRY, CONSENTED, LAPSED, OTHER_CONSENT, "+91981*"),
        None,
        consent_overrides=True,
    )
    consent = service.create_group(
        actor,
        "Consent",
        "",
        _numbers(CONSENTED, OWN_AND_CONSENTED),
        None,
        kind=GroupKind.ALLOW,
        scope=GroupScope.ATTACHED,
    )
    service.add_numbers(
        actor, GroupById(consent.group.id), _numbers(LAPSED), clock() + timedelta(hours=1), None
    )
    elsewhere = service.create_group(
        actor,
        "Other consent",
        "",
        _numbers(OTHER_CONSENT),
        None,
        kind=GroupKind.ALLOW,
        scope=GroupScope.ATTACHED,
    )
    attached = service.create_group(
        actor, "Campaign list", "", _numbers(ATTACHED_ONLY), None, scope=GroupScope.ATTACHED
    )
    return {
        "own": own.group.id,
        "registry": registry.group.id,
        "consent": consent.group.id,
        "elsewhere": elsewhere.group.id,
        "attached": attached.group.id,
    }


def _campaign(service: Service, lists: dict[str, int], window: str) -> int:
    actor = _actor(service)
    windows = {"inside": INSIDE, "outside": OUTSIDE, "none": None}
    campaign = service.create_campaign(
        actor, "Spring", "", windows[window], [lists["consent"], lists["attached"]]
    )
    service.create_campaign(actor, "Other", "", None, [lists["elsewhere"]])
    return campaign.id


@pytest.fixture
def account(service: Service, main_account: Credentials, clock: FakeClock) -> dict[str, int]:
    lists = _lists(service, clock)
    clock.advance(hours=2)  # LAPSED's consent is now expired
    return lists


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_the_precedence_table_in_the_service(
    service: Service, account: dict[str, int], row: Row
) -> None:
    campaign = _campaign(service, account, row.window)
    answer = service.check_for_campaign(
        _actor(service), row.number, Direction.OUTBOUND, CampaignById(campaign)
    )
    assert answer.callable is row.callable
    assert [r.code.value for r in answer.reasons] == row.codes
    assert answer.next_callable_at == (NEXT_OPEN if row.next_callable else None)
    # The batch form answers every row alike.
    batch = service.check_many_for_campaign(
        _actor(service), [row.number], Direction.OUTBOUND, CampaignByName("spring")
    )
    assert batch.callable == [row.callable]
    assert [r.code.value for r in batch.reasons[0]] == row.codes
    assert batch.next_callable_at == [NEXT_OPEN if row.next_callable else None]


@pytest.mark.anyio
@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
async def test_the_precedence_table_over_http(
    client: httpx.AsyncClient,
    service: Service,
    main_account: Credentials,
    account: dict[str, int],
    row: Row,
) -> None:
    campaign = _campaign(service, account, row.window)
    answer = await client.get(
        f"/v1/check/{row.number}",
        params={"campaign": str(campaign), "direction": "outbound"},
        headers=bearer(main_account),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["callable"] is row.callable
    assert [r["code"] for r in body["reasons"]] == row.codes
    expected = NEXT_OPEN.isoformat().replace("+00:00", "Z") if row.next_callable else None
    assert body["next_callable_at"] == expected
    batch = await client.post(
        "/v1/check",
        json={"numbers": [row.number], "campaign": "Spring"},
        headers=bearer(main_account),
    )
    assert batch.status_code == 200, batch.text
    result = batch.json()["results"][0]
    assert result["callable"] is row.callable
    assert [r["code"] for r in result["reasons"]] == row.codes
    assert result["next_callable_at"] == expected
    # The batch names the same groups and entries as the single check.
    named = [(r["code"], r["group_id"], r["pattern"]) for r in body["reasons"]]
    assert [(r["code"], r["group_id"], r["pattern"]) for r in result["reasons"]] == named


def test_a_check_without_a_campaign_answers_as_before(
    service: Service, account: dict[str, int]
) -> None:
    """Only global block groups count: allow groups lift nothing, attached groups are not
    consulted, consent on the registry changes nothing."""
    actor = _actor(service)
    blocked = {n: service.check(actor, n, None).blocked for n in (CONSENTED, ATTACHED_ONLY, CLEAN)}
    assert blocked == {CONSENTED: True, ATTACHED_ONLY: False, CLEAN: False}
    batch = service.check_many(actor, [CONSENTED, ATTACHED_ONLY, CLEAN], None)
    assert batch.group_ids == [[account["registry"]], [], []]


def test_a_global_allow_group_lifts_the_registry_in_every_campaign(
    service: Service, account: dict[str, int]
) -> None:
    actor = _actor(service)
    service.update_group(actor, account["elsewhere"], scope=GroupScope.GLOBAL)
    campaign = _campaign(service, account, "inside")
    answer = service.check_for_campaign(actor, OTHER_CONSENT, None, CampaignById(campaign))
    assert answer.callable
    assert [r.code.value for r in answer.reasons] == ["consent_overrides_block"]
    assert answer.reasons[0].allowed_by is not None
    assert answer.reasons[0].allowed_by.group_id == account["elsewhere"]


def test_a_withheld_caller_is_a_block_nothing_lifts(
    service: Service, account: dict[str, int]
) -> None:
    service.set_block_anonymous(_actor(service), True)
    actor = _actor(service)
    campaign = _campaign(service, account, "none")
    answer = service.check_for_campaign(
        actor, "anonymous", Direction.INBOUND, CampaignById(campaign)
    )
    assert not answer.callable
    assert [r.code.value for r in answer.reasons] == ["withheld_caller"]


def test_an_unknown_campaign_is_refused(service: Service, account: dict[str, int]) -> None:
    with pytest.raises(CampaignNotFound):
        service.check_for_campaign(_actor(service), CLEAN, None, CampaignByName("nope"))


def test_an_allow_group_cannot_override_consent(service: Service, account: dict[str, int]) -> None:
    actor = _actor(service)
    with pytest.raises(GroupKindMismatch):
        service.update_group(actor, account["consent"], consent_overrides=True)
    with pytest.raises(GroupKindMismatch):
        service.update_group(actor, account["registry"], kind=GroupKind.ALLOW)


def test_attaching_an_unknown_group_writes_nothing(
    service: Service, account: dict[str, int]
) -> None:
    actor = _actor(service)
    campaign = _campaign(service, account, "none")
    before = service.campaign(actor, CampaignById(campaign))
    with pytest.raises(InvalidInput):
        service.attach_groups(actor, CampaignById(campaign), [account["own"], 999_999])
    assert service.campaign(actor, CampaignById(campaign)) == before


def test_detaching_a_group_stops_it_counting_at_once(
    service: Service, account: dict[str, int]
) -> None:
    actor = _actor(service)
    campaign = CampaignById(_campaign(service, account, "none"))
    assert not service.check_for_campaign(actor, ATTACHED_ONLY, None, campaign).callable
    service.detach_groups(actor, campaign, [account["attached"]])
    assert service.check_for_campaign(actor, ATTACHED_ONLY, None, campaign).callable
    service.attach_groups(actor, campaign, [account["attached"]])
    assert not service.check_for_campaign(actor, ATTACHED_ONLY, None, campaign).callable


def test_every_campaign_change_is_audited(service: Service, account: dict[str, int]) -> None:
    actor = _actor(service)
    campaign = CampaignById(_campaign(service, account, "none"))
    service.update_campaign(actor, campaign, window=INSIDE)
    service.detach_groups(actor, campaign, [account["attached"]])
    service.attach_groups(actor, campaign, [account["attached"]])
    service.update_campaign(actor, campaign, name="Summer")
    service.delete_campaign(actor, campaign)
    history = service.audit(actor, group_id=None, number=None, since=None, before=None, limit=100)
    actions = [e.action for e in history.items]
    campaign_actions = [a for a in actions if a.startswith("campaign-")]
    assert sorted(campaign_actions) == sorted(
        [
            "campaign-create",
            "campaign-create",
            "campaign-update",
            "campaign-detach",
            "campaign-attach",
            "campaign-update",
            "campaign-delete",
        ]
    )


@pytest.mark.anyio
async def test_campaigns_over_http(client: httpx.AsyncClient, main_account: Credentials) -> None:
    auth = bearer(main_account)
    registry = await client.post(
        "/v1/groups",
        json={"name": "Registry", "consent_overrides": True},
        headers=auth,
    )
    consent = await client.post(
        "/v1/groups",
        json={"name": "Consent", "kind": "allow", "scope": "attached"},
        headers=auth,
    )
    assert registry.status_code == consent.status_code == 201
    assert consent.json()["kind"] == "allow"
    assert consent.json()["scope"] == "attached"
    created = await client.post(
        "/v1/campaigns",
        json={
            "name": "Spring",
            "calling_window": {"days": ["mon", "tue"], "start": "21:00", "end": "02:00"},
            "group_ids": [consent.json()["id"]],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["allow_groups"][0]["id"] == consent.json()["id"]
    assert campaign["block_groups"] == []
    assert campaign["calling_window"] == {"days": ["mon", "tue"], "start": "21:00", "end": "02:00"}
    taken = await client.post("/v1/campaigns", json={"name": "spring"}, headers=auth)
    assert problem(taken, 409)["errors"] == {"name": "already exists"}
    bad = await client.post(
        "/v1/campaigns",
        json={"name": "Bad", "calling_window": {"days": [], "start": "9", "end": "25:00"}},
        headers=auth,
    )
    assert bad.status_code == 422
    unknown = await client.post(
        f"/v1/campaigns/{campaign['id']}/groups", json={"group_ids": [424242]}, headers=auth
    )
    assert "group_ids" in problem(unknown, 422)["errors"]
    cleared = await client.patch(
        f"/v1/campaigns/{campaign['id']}", json={"calling_window": None}, headers=auth
    )
    assert cleared.json()["calling_window"] is None
    missing = await client.get("/v1/check/9800000001", params={"campaign": "nope"}, headers=auth)
    assert problem(missing, 404)["type"].endswith("campaign-not-found")
    listing = await client.get("/v1/campaigns", headers=auth)
    assert [c["name"] for c in listing.json()["data"]] == ["Spring"]
    gone = await client.delete(f"/v1/campaigns/{campaign['id']}", headers=auth)
    assert gone.status_code == 204
    assert (await client.get(f"/v1/campaigns/{campaign['id']}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("number", "before", "after"),
    [
        # London: 08:30 UTC is 08:30 GMT on Saturday 28 March 2026 and 09:30 BST on Monday 30.
        (
            "+442079460000",
            datetime(2026, 3, 28, 8, 30, tzinfo=UTC),
            datetime(2026, 3, 30, 8, 30, tzinfo=UTC),
        ),
        # New York: 13:30 UTC is 08:30 EST on Saturday 7 March 2026 and 09:30 EDT on Monday 9.
        (
            "+12125550100",
            datetime(2026, 3, 7, 13, 30, tzinfo=UTC),
            datetime(2026, 3, 9, 13, 30, tzinfo=UTC),
        ),
    ],
)
def test_the_window_follows_the_callees_daylight_saving_change(
    service: Service,
    account: dict[str, int],
    clock: FakeClock,
    number: str,
    before: datetime,
    after: datetime,
) -> None:
    """The same UTC time of day is outside the window before the callee's clocks go forward
    and inside after; next_callable_at before the change is 09:00 local time."""
    actor = _actor(service)
    every_day = window_from_text("every", "09:00-21:00")
    campaign = CampaignById(service.create_campaign(actor, "Abroad", "", every_day).id)
    clock.now = before
    early = service.check_for_campaign(actor, number, None, campaign)
    assert not early.callable
    assert [r.code.value for r in early.reasons] == ["outside_calling_hours"]
    assert early.next_callable_at == before + timedelta(minutes=30)
    clock.now = after
    assert service.check_for_campaign(actor, number, None, campaign).callable


@pytest.mark.anyio
async def test_another_accounts_campaigns_answer_like_campaigns_of_nothing(
    client: httpx.AsyncClient,
    service: Service,
    store: Store,
    main_account: Credentials,
    other_account: Credentials,
) -> None:
    """B's campaign, by id or by name, answers A exactly as a campaign id or name that exists
    nowhere, on every operation that names a campaign, and nothing is written; A cannot
    attach B's group to its own campaign. Then the same requests on A's own campaign work
    (the positive control)."""
    a, b = bearer(main_account), bearer(other_account)
    b_group = (await client.post("/v1/groups", json={"name": "B list"}, headers=b)).json()["id"]
    b_campaign = await client.post(
        "/v1/campaigns", json={"name": "B campaign", "group_ids": [b_group]}, headers=b
    )
    a_group = (await client.post("/v1/groups", json={"name": "A list"}, headers=a)).json()["id"]
    b_id = b_campaign.json()["id"]
    nowhere = 424_242
    before = snapshot(store)

    def requests(campaign: int | str, name: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            ("GET", f"/v1/campaigns/{campaign}", {}),
            ("PATCH", f"/v1/campaigns/{campaign}", {"json": {"description": "by A"}}),
            ("PATCH", f"/v1/campaigns/{campaign}", {"json": {"calling_window": None}}),
            ("POST", f"/v1/campaigns/{campaign}/groups", {"json": {"group_ids": [a_group]}}),
            ("DELETE", f"/v1/campaigns/{campaign}/groups/{a_group}", {}),
            ("GET", "/v1/check/9800000001", {"params": {"campaign": str(campaign)}}),
            ("GET", "/v1/check/9800000001", {"params": {"campaign": name}}),
            ("POST", "/v1/check", {"json": {"numbers": ["9800000001"], "campaign": name}}),
            (
                "POST",
                "/v1/scrub",
                {
                    "params": {"campaign": name},
                    "content": b"phone\n9800000001\n",
                    "headers": {**a, "Content-Type": "text/csv"},
                },
            ),
            ("DELETE", f"/v1/campaigns/{campaign}", {}),
        ]

    async def send(method: str, url: str, extra: dict[str, Any]) -> tuple[int, Any]:
        answer = await client.request(method, url, **{"headers": a, **extra})
        json_body = "json" in answer.headers.get("content-type", "")
        return answer.status_code, answer.json() if json_body else answer.text

    for theirs, nothing in zip(
        requests(b_id, "B campaign"), requests(nowhere, "No such campaign"), strict=True
    ):
        got, expected = await send(*theirs), await send(*nothing)
        assert got == expected, theirs
        assert expected[0] == 404, nothing
        assert expected[1]["type"].endswith("campaign-not-found"), nothing
    assert snapshot(store) == before, "a refused request wrote something"
    mine = await client.post("/v1/campaigns", json={"name": "A campaign"}, headers=a)
    stolen = await client.post(
        f"/v1/campaigns/{mine.json()['id']}/groups", json={"group_ids": [b_group]}, headers=a
    )
    assert problem(stolen, 422)["errors"] == {"group_ids": f"no group {b_group} in this account"}
    for request in requests(mine.json()["id"], "A campaign"):
        status, _ = await send(*request)
        assert status in (200, 204), request
    b_view = await client.get(f"/v1/campaigns/{b_id}", headers=b)
    assert b_view.json()["name"] == "B campaign"
    assert [g["id"] for g in b_view.json()["block_groups"]] == [b_group]


EXACT_ROWS = [row for row in TABLE if row.number != PREFIXED]


@pytest.mark.parametrize("row", EXACT_ROWS, ids=[row.name for row in EXACT_ROWS])
def test_the_batch_without_prefixes_answers_as_the_single_check(
    service: Service, account: dict[str, int], row: Row
) -> None:
    """On an account without prefix entries the batch decides from group ids alone (its
    fast path): every row of the table still answers as the single check does."""
    actor = _actor(service)
    prefix = RequestedNumber("+91981*", "+91981*")
    service.remove_numbers(actor, GroupById(account["registry"]), [prefix])
    assert not service.checker.index_of(actor.account.id).prefix_lengths
    campaign = CampaignById(_campaign(service, account, row.window))
    single = service.check_for_campaign(actor, row.number, Direction.OUTBOUND, campaign)
    batch = service.check_many_for_campaign(actor, [row.number], Direction.OUTBOUND, campaign)
    assert batch.callable == [single.callable] == [row.callable]
    assert [(r.code, r.group_id, r.allowed_by_group_id) for r in batch.reasons[0]] == [
        (
            r.code,
            None if r.match is None else r.match.group_id,
            None if r.allowed_by is None else r.allowed_by.group_id,
        )
        for r in single.reasons
    ]
