"""The `callblock` command, through click's CliRunner."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from callblock.cli import main
from callblock.domain import Actor, CampaignById, GroupById, RequestedNumber, Scope, Surface
from callblock.service import Service
from callblock.store import Store, create_store_engine
from callblock.store.migrate import current_revision, head_revision
from tests.conftest import wait_for_rechecks
from tests.helpers import FakeClock


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def migrated(database_url: str) -> str:
    """The database URL, with the schema in place (a shared database is never migrated
    silently; see test_a_server_database_must_be_migrated_on_purpose)."""
    return database_url


def authenticates(database_url: str, username: str, key: str) -> bool:
    store = Store.from_url(database_url)
    try:
        Service(store).authenticate(username, key, Surface.CLI)
        return True
    except Exception:
        return False
    finally:
        store.dispose()


def test_account_create_in_an_empty_directory_uses_the_default_database(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALLBLOCK_DATABASE_URL", raising=False)
    result = runner.invoke(main, ["account", "create", "alice"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("cbk_")
    assert " " not in key
    assert (tmp_path / "callblock.db").exists()
    assert authenticates("sqlite:///./callblock.db", "alice", key)


def test_database_url_from_flag_or_environment(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_flag = f"sqlite:///{tmp_path / 'flag.db'}"
    by_env = f"sqlite:///{tmp_path / 'env.db'}"
    result = runner.invoke(main, ["account", "create", "flagged", "--database-url", by_flag])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("CALLBLOCK_DATABASE_URL", by_env)
    result = runner.invoke(main, ["account", "create", "envied"])
    assert result.exit_code == 0, result.output
    assert "flagged" in runner.invoke(main, ["account", "list", "--database-url", by_flag]).stdout
    listing = runner.invoke(main, ["account", "list"]).stdout
    assert "envied" in listing
    assert "flagged" not in listing
    # The flag also works before the command.
    result = runner.invoke(main, ["--database-url", by_flag, "account", "list"])
    assert "flagged" in result.stdout


def test_every_command_and_group_of_commands_takes_the_database_url(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALLBLOCK_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'named.db'}"
    settings = runner.invoke(main, ["settings", "--database-url", url])
    assert settings.exit_code == 0, settings.output
    assert "`CALLBLOCK_DATABASE_URL`" in settings.stdout
    # After the group's name, as after the command's.
    created = runner.invoke(main, ["account", "--database-url", url, "create", "hana"])
    assert created.exit_code == 0, created.output
    assert runner.invoke(main, ["db", "--database-url", url, "upgrade"]).exit_code == 0
    group = ["group", "--database-url", url, "create", "Named", "--account", "hana"]
    assert runner.invoke(main, group).exit_code == 0
    listed = runner.invoke(main, ["group", "--database-url", url, "list", "--account", "hana"])
    assert "Named" in listed.stdout
    assert not (tmp_path / "callblock.db").exists()  # the default was never opened
    # The flag nearest the command wins.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    nearest = runner.invoke(
        main, ["--database-url", other, "account", "--database-url", url, "list"]
    )
    assert "hana" in nearest.stdout
    for command in main.commands.values():
        assert "--database-url" in runner.invoke(main, [command.name or "", "--help"]).stdout


def test_account_key_issues_an_additional_working_key(runner: CliRunner, migrated: str) -> None:
    first = runner.invoke(main, ["account", "create", "bob", "--database-url", migrated])
    second = runner.invoke(main, ["account", "key", "bob", "--database-url", migrated])
    assert second.exit_code == 0, second.output
    key1 = first.stdout.strip().splitlines()[-1]
    key2 = second.stdout.strip().splitlines()[-1]
    assert key1 != key2
    assert authenticates(migrated, "bob", key1)
    assert authenticates(migrated, "bob", key2)


def test_account_key_takes_a_label_and_scopes_and_keys_lists_them(
    runner: CliRunner, migrated: str
) -> None:
    runner.invoke(main, ["account", "create", "dina", "--database-url", migrated])
    made = runner.invoke(
        main,
        [
            "account",
            "key",
            "dina",
            "--label",
            "Dialer, floor 2",
            "--scope",
            "check",
            "--database-url",
            migrated,
        ],
    )
    assert made.exit_code == 0, made.output
    assert "(scopes check)" in made.stdout
    dialer = made.stdout.strip().splitlines()[-1]
    store = Store.from_url(migrated)
    try:
        actor = Service(store).authenticate("dina", dialer, Surface.V1)
    finally:
        store.dispose()
    assert (actor.key_label, actor.scopes) == ("Dialer, floor 2", frozenset({Scope.CHECK}))
    both = runner.invoke(
        main, ["account", "key", "dina", "--scope", "read,admin", "--database-url", migrated]
    )
    assert "(scopes admin, read)" in both.stdout
    listing = runner.invoke(main, ["account", "keys", "dina", "--database-url", migrated])
    rows = listing.stdout.splitlines()[1:]
    assert rows[0].split()[-1] == "admin,check,read,write"  # the first key: every scope
    assert rows[1].endswith("check                  Dialer, floor 2")
    assert rows[2].split()[-1] == "admin,read"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--scope", "delete"], "not a scope: 'delete'"),
        (["--scope", ""], "not a scope: ''"),
        (["--label", "x" * 65], "too long"),
    ],
)
def test_account_key_refuses_a_bad_scope_or_label_and_issues_nothing(
    runner: CliRunner, migrated: str, options: list[str], said: str
) -> None:
    runner.invoke(main, ["account", "create", "erin", "--database-url", migrated])
    refused = runner.invoke(main, ["account", "key", "erin", *options, "--database-url", migrated])
    assert refused.exit_code != 0
    assert said in refused.output
    listing = runner.invoke(main, ["account", "keys", "erin", "--database-url", migrated])
    assert len(listing.stdout.splitlines()) == 2  # the header and the first key


def test_account_list_never_shows_keys(runner: CliRunner, migrated: str) -> None:
    created = runner.invoke(
        main,
        [
            "account",
            "create",
            "carol",
            "--region",
            "us",
            "--timezone",
            "America/Chicago",
            "--database-url",
            migrated,
        ],
    )
    key = created.stdout.strip().splitlines()[-1]
    listing = runner.invoke(main, ["account", "list", "--database-url", migrated])
    assert listing.exit_code == 0
    assert key not in listing.stdout
    assert key[:12] not in listing.stdout
    row = next(line for line in listing.stdout.splitlines() if line.startswith("carol"))
    assert row.split()[:4] == ["carol", "US", "America/Chicago", "BASIC_AUTH"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["account", "create", "has space"], "username"),
        (["account", "create", "ok", "--region", "XX"], "region"),
        (["account", "create", "ok", "--timezone", "Mars/Olympus"], "timezone"),
        (["account", "key", "nobody"], "no account named 'nobody'"),
    ],
)
def test_bad_input_is_a_clear_error(
    runner: CliRunner, migrated: str, args: list[str], message: str
) -> None:
    result = runner.invoke(main, [*args, "--database-url", migrated])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert "ok" not in runner.invoke(main, ["account", "list", "--database-url", migrated]).stdout


def test_account_update_changes_the_region_and_time_zone_audited(
    runner: CliRunner, migrated: str
) -> None:
    runner.invoke(main, ["account", "create", "ines", "--database-url", migrated])
    result = runner.invoke(
        main,
        ["account", "update", "ines", "--region", "gb", "--timezone", "Europe/London"],
        env={"CALLBLOCK_DATABASE_URL": migrated},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "account ines: region GB, timezone Europe/London\n"
    listing = runner.invoke(main, ["account", "list", "--database-url", migrated]).stdout
    row = next(line for line in listing.splitlines() if line.startswith("ines"))
    assert row.split()[:3] == ["ines", "GB", "Europe/London"]
    store = Store.from_url(migrated)
    try:
        service = Service(store)
        actor = Actor(service.account("ines"), None, Surface.CLI)
        (event,) = service.audit(
            actor, group_id=None, number=None, since=None, before=None, limit=10
        ).items
        assert (event.action, event.surface) == ("settings", "cli")
        assert event.detail == {
            "region": "GB",
            "previous_region": "IN",
            "timezone": "Europe/London",
            "previous_timezone": "Asia/Kolkata",
        }
        # National numbers are read as British from now on.
        assert service.check(actor, "020 7946 0000", None).number == "+442079460000"
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--region", "XX"], 1, "region 'XX': not an ISO 3166 two-letter region"),
        (["--timezone", "Mars/Olympus"], 1, "timezone 'Mars/Olympus': not an IANA time zone"),
        (["--region", "GB", "--timezone", "Nowhere"], 1, "timezone 'Nowhere'"),
        ([], 2, "nothing to change"),
    ],
)
def test_account_update_refuses_what_it_cannot_set_and_changes_nothing(
    runner: CliRunner, migrated: str, args: list[str], code: int, message: str
) -> None:
    runner.invoke(main, ["account", "create", "jo", "--database-url", migrated])
    result = runner.invoke(main, ["account", "update", "jo", *args, "--database-url", migrated])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    listing = runner.invoke(main, ["account", "list", "--database-url", migrated]).stdout
    row = next(line for line in listing.splitlines() if line.startswith("jo "))
    assert row.split()[:3] == ["jo", "IN", "Asia/Kolkata"]
    missing = runner.invoke(
        main, ["account", "update", "ghost", "--region", "GB", "--database-url", migrated]
    )
    assert missing.exit_code == 1
    assert "no account named 'ghost'" in missing.stderr


def test_duplicate_username_is_refused(runner: CliRunner, migrated: str) -> None:
    runner.invoke(main, ["account", "create", "dave", "--database-url", migrated])
    result = runner.invoke(main, ["account", "create", "dave", "--database-url", migrated])
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_db_upgrade_brings_a_database_to_head(runner: CliRunner, empty_database_url: str) -> None:
    database_url = empty_database_url
    result = runner.invoke(main, ["db", "upgrade", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert f"migrated from an empty schema to {head_revision()}" in result.output
    store = Store.from_url(database_url)
    assert current_revision(store.engine) == head_revision()
    store.dispose()
    again = runner.invoke(main, ["db", "upgrade", "--database-url", database_url])
    assert f"already at the newest schema ({head_revision()})" in again.output


# SQLite files are migrated on open instead: see the empty-directory test.
@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_a_server_database_must_be_migrated_on_purpose(
    runner: CliRunner, empty_database_url: str
) -> None:
    database_url = empty_database_url
    result = runner.invoke(main, ["account", "create", "erin", "--database-url", database_url])
    assert result.exit_code == 1
    assert "callblock db upgrade" in result.stderr
    assert runner.invoke(main, ["db", "upgrade", "--database-url", database_url]).exit_code == 0
    result = runner.invoke(main, ["account", "create", "erin", "--database-url", database_url])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "cannot open the database"),
        ("not a url", "unusable database URL"),
        ("sqlite:////nonexistent-dir/x/y.db", "cannot open the database"),
        ("sqlite://", "in-memory SQLite"),
        ("sqlite:///:memory:", "in-memory SQLite"),
    ],
)
def test_unusable_database_is_a_clear_error(runner: CliRunner, url: str, message: str) -> None:
    for args in (["account", "list"], ["db", "upgrade"]):
        result = runner.invoke(main, [*args, "--database-url", url])
        assert result.exit_code == 1, result.output
        assert message in result.stderr
        assert "secret" not in result.stderr
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://someone:secret@db.internal/callblock", "postgresql://db/x"]
)
def test_a_missing_postgres_driver_names_the_extra_to_install(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    # As if psycopg were not installed: importing it fails as a missing module does.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    for args in (
        ["account", "list"],
        ["db", "upgrade"],
        ["serve"],
        ["group", "list", "--account", "x"],
    ):
        result = runner.invoke(main, [*args, "--database-url", url])
        assert result.exit_code == 1, (args, result.output)
        assert "pip install 'callblock[postgres]'" in result.stderr, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line
        assert "secret" not in result.stderr
        assert "Traceback" not in result.output


def test_a_bare_postgresql_url_uses_the_driver_callblock_ships() -> None:
    # SQLAlchemy's default would be psycopg2, which callblock neither installs nor supports.
    engine = create_store_engine("postgresql://someone@db.internal/callblock")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_a_missing_postgres_driver_is_one_line_from_the_command(tmp_path: Path) -> None:
    """The installed command, in its own process: no traceback, the extra named."""
    program = (
        "import sys; sys.modules['psycopg'] = None; from callblock.cli import run; "
        "sys.argv = ['callblock', 'serve', '--port', '0', '--database-url', "
        "'postgresql://someone@db.internal/callblock']; run()"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Error: unusable database URL postgresql://someone@db.internal/callblock: the "
        "PostgreSQL driver (psycopg) is not installed; install it with: "
        "pip install 'callblock[postgres]'"
    )


def test_set_auth_switches_the_mode(runner: CliRunner, migrated: str) -> None:
    runner.invoke(main, ["account", "create", "frank", "--database-url", migrated])
    result = runner.invoke(
        main, ["account", "set-auth", "frank", "TOKEN_AUTH", "--database-url", migrated]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(main, ["account", "list", "--database-url", migrated]).stdout
    assert "TOKEN_AUTH" in next(line for line in listing.splitlines() if line.startswith("frank"))
    refused = runner.invoke(
        main, ["account", "set-auth", "frank", "OAUTH", "--database-url", migrated]
    )
    assert refused.exit_code == 2
    assert "OAUTH" in refused.stderr
    missing = runner.invoke(
        main, ["account", "set-auth", "ghost", "BASIC_AUTH", "--database-url", migrated]
    )
    assert missing.exit_code == 1
    assert "no account named 'ghost'" in missing.stderr


@pytest.mark.parametrize("value", ["abc", "0", "-1"])
def test_a_bad_setting_is_a_clear_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CALLBLOCK_MAX_BODY_BYTES", value)
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "CALLBLOCK_MAX_BODY_BYTES" in result.stderr
    assert "Traceback" not in result.output


def _account(runner: CliRunner, url: str, username: str = "gina") -> None:
    result = runner.invoke(main, ["account", "create", username, "--database-url", url])
    assert result.exit_code == 0, result.output


def test_group_create_list_check_delete_on_the_local_database(
    runner: CliRunner, migrated: str
) -> None:
    _account(runner, migrated)
    created = runner.invoke(
        main,
        [
            "group",
            "create",
            "Abusive callers",
            "--direction",
            "inbound",
            "--account",
            "gina",
            "--database-url",
            migrated,
        ],
    )
    assert created.exit_code == 0, created.output
    group_id = int(created.stdout.strip().splitlines()[-1])
    listing = runner.invoke(
        main, ["group", "list", "--account", "gina", "--database-url", migrated]
    )
    assert listing.stdout.splitlines()[0].split() == [
        "ID",
        "KIND",
        "SCOPE",
        "DIRECTION",
        "CONSENT",
        "ACTIVE",
        "EXPIRED",
        "NAME",
    ]
    row = listing.stdout.splitlines()[1].split()
    assert row[:7] == [str(group_id), "block", "global", "inbound", "no", "0", "0"]
    assert "Abusive callers" in listing.stdout

    store = Store.from_url(migrated)
    service = Service(store)
    actor = Actor(service.account("gina"), None, Surface.CLI)
    service.add_numbers(actor, GroupById(group_id), [RequestedNumber("x", "+919876543210")], None)
    store.dispose()

    blocked = runner.invoke(
        main,
        [
            "check",
            "09876543210",
            "--direction",
            "inbound",
            "--account",
            "gina",
            "--database-url",
            migrated,
        ],
    )
    assert blocked.exit_code == 0
    assert blocked.stdout.splitlines()[0] == "+919876543210: BLOCKED"
    assert f"group {group_id} (Abusive callers)" in blocked.stdout
    outbound = runner.invoke(
        main,
        [
            "check",
            "9876543210",
            "--direction",
            "outbound",
            "--account",
            "gina",
            "--database-url",
            migrated,
        ],
    )
    assert outbound.stdout.strip() == "+919876543210: not blocked"
    invalid = runner.invoke(
        main, ["check", "12ab", "--account", "gina", "--database-url", migrated]
    )
    assert invalid.exit_code == 2
    assert "not a valid phone number" in invalid.stderr

    deleted = runner.invoke(
        main, ["group", "delete", str(group_id), "--account", "gina", "--database-url", migrated]
    )
    assert deleted.exit_code == 0
    again = runner.invoke(
        main, ["group", "delete", str(group_id), "--account", "gina", "--database-url", migrated]
    )
    assert again.exit_code == 1
    assert "no such group" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["group", "list"], "--account"),
        (["group", "create", "@bad", "--account", "gina"], "NAME"),
        (["group", "create", "Fine", "--account", "nobody"], "no account named 'nobody'"),
        (["group", "list", "--url", "http://127.0.0.1:9"], "--api-key"),
        (["check", "9876543210", "--direction", "sideways", "--account", "gina"], "sideways"),
    ],
)
def test_group_and_check_bad_input(
    runner: CliRunner, migrated: str, args: list[str], message: str
) -> None:
    _account(runner, migrated)
    result = runner.invoke(main, [*args, "--database-url", migrated])
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_group_create_takes_a_kind_a_scope_and_consent_overrides(
    runner: CliRunner, migrated: str
) -> None:
    _account(runner, migrated)
    target = ["--account", "gina", "--database-url", migrated]
    made = [
        runner.invoke(main, ["group", "create", *args, *target])
        for args in (
            ["Registry", "--consent-overrides"],
            ["Consent", "--kind", "allow", "--scope", "attached"],
        )
    ]
    assert [m.exit_code for m in made] == [0, 0], [m.output for m in made]
    assert made[0].stdout.startswith(
        "created group 'Registry' (block group, global, consent overrides it):"
    )
    assert made[1].stdout.startswith("created group 'Consent' (allow group, attached):")
    rows = [
        line.split()
        for line in runner.invoke(main, ["group", "list", *target]).stdout.splitlines()[1:]
    ]
    assert [row[1:5] + row[7:] for row in rows] == [
        ["block", "global", "both", "yes", "Registry"],
        ["allow", "attached", "both", "no", "Consent"],
    ]
    store = Store.from_url(migrated)
    service = Service(store)
    actor = Actor(service.account("gina"), None, Surface.CLI)
    groups = {
        d.group.name: d.group
        for d in service.list_groups(actor, name=None, after=None, limit=10).items
    }
    store.dispose()
    assert (groups["Registry"].kind, groups["Registry"].consent_overrides) == ("block", True)
    assert (groups["Consent"].kind, groups["Consent"].scope) == ("allow", "attached")

    odd = runner.invoke(
        main, ["group", "create", "Odd", "--kind", "allow", "--consent-overrides", *target]
    )
    assert odd.exit_code == 2
    assert "only a block group has its blocks lifted by consent" in odd.stderr
    unknown = runner.invoke(main, ["group", "create", "Odd", "--scope", "local", *target])
    assert unknown.exit_code == 2
    assert "'local' is not one of 'global', 'attached'" in unknown.stderr
    assert "Odd" not in runner.invoke(main, ["group", "list", *target]).stdout


def test_a_duplicate_group_name_is_refused(runner: CliRunner, migrated: str) -> None:
    _account(runner, migrated)
    args = ["group", "create", "Twice", "--account", "gina", "--database-url", migrated]
    assert runner.invoke(main, args).exit_code == 0
    again = runner.invoke(main, [*args[:2], "TWICE", *args[3:]])
    assert again.exit_code == 1
    assert "already exists" in again.stderr


def test_the_package_docstring_names_every_command() -> None:
    import callblock.cli

    doc = callblock.cli.__doc__ or ""
    for name, command in main.commands.items():
        assert f"callblock {name}" in doc or f"callblock [{name}]" in doc, name
        for sub in getattr(command, "commands", {}):
            assert re.search(rf"callblock {name} [a-z|-]*\b{sub}\b", doc), f"{name} {sub}"


# --- insights: `callblock stats` and `callblock stale` ----------------------------------------


def _counted_checks(url: str, at: datetime) -> None:
    """Checks of gina's account made at ``at`` and counted, as a server's process counts and
    writes them: a group DNC (two numbers and a prefix) and a campaign Spring."""
    store = Store.from_url(url)
    try:
        service = Service(store, clock=FakeClock(at), count_checks=True)
        actor = Actor(service.account("gina"), None, Surface.CLI)
        numbers = ("+919800000001", "+919800000002", "+91140*")
        service.create_group(actor, "DNC", "", [RequestedNumber(n, n) for n in numbers], None)
        spring = service.create_campaign(actor, "Spring", "", None)
        assert service.check(actor, "9800000001", None).blocked
        assert not service.check(actor, "9811111111", None).blocked
        service.check_many(actor, ["9800000001", "x", "01401234567"], None)
        service.check_for_campaign(actor, "9800000001", None, CampaignById(spring.id))
        assert service.flush_counts() == 6
    finally:
        store.dispose()
        wait_for_rechecks()


def test_stats_and_stale_entries_on_the_local_database(
    runner: CliRunner, migrated: str, tmp_path: Path
) -> None:
    _account(runner, migrated)
    day = (datetime.now(UTC) - timedelta(days=40)).replace(hour=12, minute=0, second=0)
    _counted_checks(migrated, day)
    target = ["--account", "gina", "--database-url", migrated]
    on = day.strftime("%Y-%m-%d")
    next_day = (day + timedelta(days=1)).strftime("%Y-%m-%d")

    stats = runner.invoke(
        main,
        ["stats", "--bucket", "day", "--from", on, "--to", next_day, "--group", "dnc", *target],
    )
    assert stats.exit_code == 0, stats.output
    lines = [line.split() for line in stats.stdout.splitlines()]
    assert stats.stdout.startswith(
        f"checks per day, {on} 00:00 to {next_day} 00:00 UTC (every check)\n"
    )
    assert lines[1] == [
        "DAY",
        "(UTC)",
        "CHECKS",
        "BLOCKED",
        "SHARE",
        "INVALID",
        "MATCHED",
        "BY",
        "DNC",
    ]
    assert [on, "6", "4", "66.7%", "1", "4"] in lines
    assert ["TOTAL", "6", "4", "66.7%", "1", "4"] in lines
    assert "6 checks, 4 blocked (66.7%), 1 not a number\n" in stats.stdout
    assert ["1", "DNC", "4", "66.7%"] in lines  # matched by group, of every check
    # Top entries: single checks only (the campaign's one too); the batch's prefix is not.
    top = stats.stdout.split("entries single checks matched most")[1]
    assert [line.split() for line in top.splitlines()[3:]] == [
        ["DNC", "+91", "98000", "00001", "2"]
    ]

    spring = runner.invoke(
        main,
        [
            "stats",
            "--bucket",
            "hour",
            "--from",
            on,
            "--to",
            next_day,
            "--campaign",
            "SPRING",
            *target,
        ],
    )
    assert spring.exit_code == 0, spring.output
    assert "(campaign 'Spring')" in spring.stdout
    assert [f"{on}", "12:00", "1", "1", "100.0%", "0"] in [
        line.split() for line in spring.stdout.splitlines()
    ]
    assert "1 check, 1 blocked (100.0%), 0 not a number\n" in spring.stdout
    assert "(every check's, not only the campaign's)" in spring.stdout
    # Nothing counted in the range (by default the last 60 buckets): said, and no table.
    empty = runner.invoke(main, ["stats", *target])
    assert empty.exit_code == 0, empty.output
    assert "no checks counted in this range\n" in empty.stdout
    assert "TOTAL" not in empty.stdout
    assert empty.stdout.startswith("checks per hour, ")

    # Stale: in the group for 30 days and matched by no check since; the day each last matched.
    stale = runner.invoke(main, ["stale", "DNC", "--days", "30", *target])
    assert stale.exit_code == 0, stale.output
    rows = [line.split() for line in stale.stdout.splitlines()]
    assert rows[0] == ["NUMBER", "KIND", "STATUS", "EXPIRES", "ADDED", "LAST", "MATCHED", "NOTE"]
    assert [(r[0], r[1], r[5]) for r in rows[2:5]] == [
        ("+91140*", "prefix", on),  # matched by the batch
        ("+919800000001", "number", on),
        ("+919800000002", "number", "never"),
    ]
    assert stale.stdout.endswith("3 entries of group 'DNC' matched by no check in 30 days\n")
    # Fifty days: they were not in the group all that time, so none is stale.
    fifty = runner.invoke(main, ["stale", "1", "--days", "50", *target])
    assert fifty.stdout == "0 entries of group 'DNC' matched by no check in 50 days\n"

    out = tmp_path / "stale.csv"
    written = runner.invoke(main, ["stale", "dnc", "--csv", str(out), *target])
    assert written.exit_code == 0, written.output
    assert written.stderr == "3 entries of group 'DNC' matched by no check in 30 days\n"
    with out.open(newline="") as file:
        csv_rows = list(csv.reader(file))
    assert csv_rows[0] == [
        "number",
        "kind",
        "status",
        "expires_at",
        "note",
        "created_at",
        "last_matched_on",
    ]
    assert [(r[0], r[1], r[2], r[6]) for r in csv_rows[1:]] == [
        ("+91140*", "prefix", "active", on),
        ("+919800000001", "number", "active", on),
        ("+919800000002", "number", "active", ""),
    ]
    assert datetime.fromisoformat(csv_rows[1][5]).date() == day.date()
    to_stdout = runner.invoke(main, ["stale", "dnc", "--csv", "-", *target])
    assert to_stdout.stdout == out.read_text()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["stats", "--from", "yesterday"], 2, "'yesterday' is not a date or a date-time"),
        (["stats", "--to", "2026-13-01"], 2, "Invalid value for '--to'"),
        (["stats", "--bucket", "week"], 2, "'week' is not one of 'minute', 'hour', 'day'"),
        (
            ["stats", "--from", "2026-06-02", "--to", "2026-06-01T23:00+05:30"],
            1,
            "invalid range: --to: must be after from",
        ),
        (
            ["stats", "--bucket", "minute", "--from", "2026-05-01", "--to", "2026-06-01"],
            1,
            "invalid range: --from: the range holds more than 5,000 minutes",
        ),
        (["stats", "--group", "nope"], 1, "no group named 'nope'"),
        (["stats", "--campaign", "7"], 1, "no campaign named '7' or with that id"),
        (["stale", "nope"], 1, "no group named 'nope'"),
        (["stale", "DNC", "--days", "0"], 2, "0 is not in the range 1<=x<=3650"),
        (["stats"], 2, "--account"),
    ],
)
def test_stats_and_stale_refuse_bad_input_clearly(
    runner: CliRunner, migrated: str, args: list[str], code: int, message: str
) -> None:
    _account(runner, migrated)
    target = [] if args == ["stats"] else ["--account", "gina"]
    result = runner.invoke(main, [*args, *target, "--database-url", migrated])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
