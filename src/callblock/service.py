"""The one object every surface holds: the use cases, wired together.

Surfaces (compat endpoints, ``/v1``, CLI, the admin page through ``/v1``) call these methods
and nothing deeper. The facade is deliberately thin: each method IS a use case's method (bound
here, not wrapped), so there is one place to construct and pass around, and one list of what a
surface may do, while the logic lives in ``callblock.usecases``, one concern a module. Inputs
arrive parsed (numbers as E.164, names validated) by the surface, which reports every invalid
field at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callblock.store import Store
from callblock.throttle import AUTH_FAILURES_ALLOWED, RequestRate
from callblock.usecases.accounts import Accounts
from callblock.usecases.audit import History
from callblock.usecases.auth import KEY_PREFIX, Authenticator
from callblock.usecases.campaign_checks import CampaignChecks
from callblock.usecases.campaigns import KEEP, Campaigns
from callblock.usecases.check_counts import CheckTally
from callblock.usecases.checking import Checker
from callblock.usecases.counted_checks import CountedChecks
from callblock.usecases.credentials import (
    AUTH_CACHE_SECONDS,
    STALE_AUTH_SECONDS,
    CredentialCache,
    hash_key,
)
from callblock.usecases.entries import Entries
from callblock.usecases.failures import FailureLimit
from callblock.usecases.feed import ChangeFeed
from callblock.usecases.groups import Groups
from callblock.usecases.imports import DEFAULT_MAX_REMOVAL, Imports
from callblock.usecases.insights import Insights
from callblock.usecases.key_use import KeyUse
from callblock.usecases.results import (
    AccountSummary,
    BatchCheck,
    CampaignBatch,
    CampaignCheck,
    ChangesPage,
    CheckResult,
    FeedItem,
    GroupCreated,
    GroupExport,
    ImportResult,
    IssuedKey,
    KeyInfo,
    NumbersAdded,
    NumbersRemoved,
)
from callblock.usecases.server_secret import ServerSecret
from callblock.usecases.writes import DEFAULT_RETENTION, Writer

__all__ = [
    "AUTH_CACHE_SECONDS",
    "DEFAULT_MAX_REMOVAL",
    "KEEP",
    "KEY_PREFIX",
    "STALE_AUTH_SECONDS",
    "AccountSummary",
    "BatchCheck",
    "CampaignBatch",
    "CampaignCheck",
    "ChangesPage",
    "CheckResult",
    "FeedItem",
    "GroupCreated",
    "GroupExport",
    "ImportResult",
    "IssuedKey",
    "KeyInfo",
    "NumbersAdded",
    "NumbersRemoved",
    "Service",
    "hash_key",
    "system_clock",
]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Service:
    def __init__(
        self,
        store: Store,
        clock: Clock = system_clock,
        secret_key: str | None = None,
        request_rate: RequestRate | None = None,
        auth_failures_allowed: int = AUTH_FAILURES_ALLOWED,
        change_log_retention: timedelta = DEFAULT_RETENTION,
        index_dir: Path | None = None,
        count_checks: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        credentials = CredentialCache()
        self.checker = Checker(
            store, clock, credentials_moved=credentials.forget_account, snapshot_dir=index_dir
        )
        self.writer = Writer(store, clock, self.checker, change_log_retention)
        failures = FailureLimit(store, clock, auth_failures_allowed)
        secret = ServerSecret(store, clock, secret_key)
        key_use = KeyUse(store, clock)
        auth = Authenticator(
            store,
            clock,
            credentials,
            failures,
            request_rate or RequestRate(0, 1),  # none: no limit
            secret,
            key_use,
        )
        accounts = Accounts(store, clock, self.writer, credentials)
        groups = Groups(store, clock, self.writer)
        campaigns = Campaigns(store, clock, self.writer)
        campaign_checks = CampaignChecks(self.checker, clock)
        # Checks are counted by the server's processes, which flush what they counted.
        self.tally = CheckTally(lambda account_id: self.checker.index_of(account_id).prefixes)
        counted = CountedChecks(
            self.checker, campaign_checks, self.tally if count_checks else None, clock
        )
        insights = Insights(store, clock)
        # What a scrub checks with: not counted (a list cleaned, not calls).
        self.scrub_checks = campaign_checks
        entries = Entries(store, clock, self.writer)
        imports = Imports(store, clock, self.writer)
        history = History(store)
        feed = ChangeFeed(store, secret)

        # accounts and keys (the operator's commands)
        self.create_account = accounts.create_account
        self.issue_key = accounts.issue_key
        self.list_accounts = accounts.list_accounts
        self.has_accounts = accounts.has_accounts
        self.account = accounts.account
        self.revoke_key = accounts.revoke_key
        self.keys = accounts.keys
        self.set_auth_mode = accounts.set_auth_mode
        self.set_block_anonymous = accounts.set_block_anonymous
        # an account's keys, over HTTP (audited)
        self.issue_key_as = accounts.issue_key_as
        self.keys_of = accounts.keys_of
        self.revoke_key_as = accounts.revoke_key_as
        self.update_settings = accounts.update_settings
        # authentication and tokens
        self.authenticate = auth.authenticate
        self.authenticate_key = auth.authenticate_key
        self.authenticate_by_mode = auth.authenticate_by_mode
        self.cached_actor = auth.cached_actor
        self.checking_actor = auth.checking_actor
        self.issue_token = auth.issue_token
        # when keys were last used: noted by authentication, written by the refresher
        self.write_key_use = key_use.flush
        # groups, entries, imports, history
        self.create_group = groups.create_group
        self.list_groups = groups.list_groups
        self.group_detail = groups.group_detail
        self.group_refreshes = groups.group_refreshes
        self.update_group = groups.update_group
        self.delete_group = groups.delete_group
        self.create_campaign = campaigns.create_campaign
        self.list_campaigns = campaigns.list_campaigns
        self.campaign = campaigns.campaign
        self.update_campaign = campaigns.update_campaign
        self.attach_groups = campaigns.attach_groups
        self.detach_groups = campaigns.detach_groups
        self.delete_campaign = campaigns.delete_campaign
        self.list_entries = entries.list_entries
        self.add_numbers = entries.add_numbers
        self.remove_numbers = entries.remove_numbers
        self.purge_expired = entries.purge_expired
        self.import_entries = imports.import_entries
        self.apply_change_list = imports.apply_change_list
        self.exporting = imports.exporting
        self.audit = history.audit
        self.changes = history.changes
        self.change_feed = feed.changes
        # checks and the index
        self.check = counted.check
        self.check_many = counted.check_many
        self.check_for_campaign = counted.check_for_campaign
        self.check_many_for_campaign = counted.check_many_for_campaign
        # insights: checks counted, read back
        self.stats = insights.stats
        self.stale_entries = insights.stale_entries
        self.campaign_plan = campaign_checks.plan
        self.group_names = self.checker.group_names
        self.load_index = self.checker.load_all
        self.refresh_index = self.checker.refresh
        self.listen_for_writes = self.checker.listen
        self.stop_listening = self.checker.stop_listening
        self.wait_for_writes = self.checker.wait_for_writes
        self.store_reachable = self.checker.store_reachable
        self.index_entries = self.checker.entries
        self.has_index = self.checker.has_index

    def flush_counts(self) -> int:
        """Write the checks this process counted; how many (StoreUnavailable: kept)."""
        return self.tally.flush(self.store)

    @property
    def index_loaded(self) -> bool:
        return self.checker.loaded

    @property
    def index_refreshed_at(self) -> float | None:
        return self.checker.refreshed_at
