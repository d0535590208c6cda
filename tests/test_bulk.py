"""Import, export and scrub: CLI and HTTP, all-or-nothing imports, order-keeping scrubs."""

from __future__ import annotations

import csv
import gzip
import io
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from callblock import files
from callblock.cli import main
from callblock.domain import Actor, GroupByName, ImportRejected, RejectedLine, Surface
from callblock.http.app import create_app
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.helpers import Credentials, bearer, new_group, problem, snapshot


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def acme(store: Store, service: Service, database_url: str) -> str:
    service.create_account("acme")
    return database_url


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def cli(runner: CliRunner, url: str, *args: str) -> Any:
    return runner.invoke(main, [*args, "--database-url", url])


def scrub(
    runner: CliRunner,
    url: str,
    campaign: Path,
    out: Path,
    *options: str,
    blocked: Path | None = None,
) -> Any:
    """``callblock scrub`` for acme: ``campaign`` into ``out``, the blocked rows into
    ``blocked`` when given."""
    to_blocked = ["--blocked", str(blocked)] if blocked is not None else []
    return cli(
        runner,
        url,
        "scrub",
        "--account",
        "acme",
        str(campaign),
        *options,
        "-o",
        str(out),
        *to_blocked,
    )


def group_numbers(url: str, name: str) -> dict[str, object]:
    store = Store.from_url(url)
    service = Service(store)
    me = Actor(service.account("acme"), None, Surface.CLI)
    with service.exporting(me, GroupByName(name)) as export:
        text = "".join(files.CsvExport(export.blocks, export.at))
    store.dispose()
    return {
        row["number"]: datetime.fromisoformat(row["expires_at"]) if row["expires_at"] else None
        for row in csv.DictReader(io.StringIO(text))
    }


# --- import ------------------------------------------------------------------------------------


def test_import_reads_a_header_picks_the_column_and_creates_the_group(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    file = write(
        tmp_path / "list.csv",
        "name,phone,expires\nann,9876543210,\nbob,+91 91234 56780,2099-01-01T00:00:00Z\n"
        "cat,140*,2099-01-01 05:30:00\n",
    )
    result = cli(runner, acme, "import", "--account", "acme", "--group", "DNC", str(file))
    assert result.exit_code == 0, result.output
    assert "created group 'DNC'" in result.stdout
    assert "3 added" in result.stdout
    assert "line 1 read as a header (not imported): 'name,phone,expires'" in result.stderr
    numbers = group_numbers(acme, "DNC")
    assert set(numbers) == {"+919876543210", "+919123456780", "+91140*"}
    assert numbers["+919876543210"] is None
    # Local time in the account's zone (Asia/Kolkata): 05:30 there is midnight UTC.
    assert numbers["+91140*"] == numbers["+919123456780"]


def test_import_of_plain_text_and_gzip_and_by_position(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    plain = write(tmp_path / "plain.txt", "9876543210\n\n09123456780\n")
    assert (
        cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(plain)).exit_code == 0
    )
    packed = tmp_path / "list.csv.gz"
    packed.write_bytes(gzip.compress(b"a;b\nx;9811122233\n"))
    result = cli(
        runner, acme, "import", "--account", "acme", "--group", "GG", "--column", "2", str(packed)
    )
    assert result.exit_code == 0, result.output
    assert set(group_numbers(acme, "GG")) == {"+919876543210", "+919123456780", "+919811122233"}


def test_invalid_lines_refuse_the_whole_import_with_line_numbers(
    runner: CliRunner, acme: str, store: Store, tmp_path: Path
) -> None:
    file = write(tmp_path / "bad.csv", "phone\n9876543210\n12ab45\n9123456780\n2\n")
    before = snapshot(store)
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert result.exit_code == 1
    assert "line 3: '12ab45': not a valid phone number" in result.stderr
    assert "line 5: '2': not a valid phone number" in result.stderr
    assert "nothing imported: 2 invalid lines" in result.stderr
    assert snapshot(store) == before  # not even the group was created
    skipped = cli(
        runner, acme, "import", "--account", "acme", "--group", "GG", "--skip-invalid", str(file)
    )
    assert skipped.exit_code == 0
    assert "2 added" in skipped.stdout
    assert "2 invalid lines skipped" in skipped.stdout
    assert "line 3: '12ab45'" in skipped.stderr


def test_one_invalid_line_is_said_in_the_singular(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    file = write(tmp_path / "one.csv", "phone\n9876543210\n12ab45\n")
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert result.exit_code == 1
    assert "nothing imported: 1 invalid line (fix them" in result.stderr
    skipped = cli(
        runner, acme, "import", "--account", "acme", "--group", "GG", "--skip-invalid", str(file)
    )
    assert skipped.exit_code == 0
    assert "1 invalid line skipped" in skipped.stdout
    assert str(ImportRejected([RejectedLine(3, "12ab45", "not a valid phone number")])) == (
        "1 invalid line"
    )


def test_reimporting_adds_nothing_twice(runner: CliRunner, acme: str, tmp_path: Path) -> None:
    file = write(tmp_path / "l.txt", "9876543210\n9876543210\n09123456780\n")
    first = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert "2 added" in first.stdout
    assert "1 repeated lines" in first.stdout
    second = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert "0 added, 2 already there" in second.stdout
    assert len(group_numbers(acme, "GG")) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--column", "nope"], "no column 'nope'"),
        (["--expiry-column", "when"], "no column 'when'"),
    ],
)
def test_import_file_problems_are_clear(
    runner: CliRunner, acme: str, tmp_path: Path, args: list[str], message: str
) -> None:
    file = write(tmp_path / "l.csv", "phone,x\n9876543210,1\n")
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", *args, str(file))
    assert result.exit_code == 1
    assert message in result.stderr
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(binary))
    assert result.exit_code == 1
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.output


# --- export and scrub -------------------------------------------------------------------------


def test_export_streams_every_entry(runner: CliRunner, acme: str, tmp_path: Path) -> None:
    numbers = [str(9000000000 + i) for i in range(12_000)]
    write(tmp_path / "l.txt", "\n".join(numbers))
    cli(runner, acme, "import", "--account", "acme", "--group", "Big", str(tmp_path / "l.txt"))
    out = tmp_path / "out.csv"
    result = cli(runner, acme, "export", "--account", "acme", "--group", "Big", "-o", str(out))
    assert result.exit_code == 0, result.output
    with out.open() as exported:
        rows = list(csv.DictReader(exported))
    assert len(rows) == 12_000
    assert rows[0]["number"] == "+919000000000"
    assert rows[0]["status"] == "active"
    missing = cli(runner, acme, "export", "--account", "acme", "--group", "Nope")
    assert missing.exit_code == 1
    assert "no such group" in missing.stderr


def scrub_against(
    runner: CliRunner, url: str, tmp_path: Path, dnc: str, campaign: str, *options: str
) -> tuple[Any, Path, Path]:
    """Import ``dnc`` as group DNC, scrub ``campaign`` against it; the result and both outputs."""
    write(tmp_path / "dnc.txt", dnc)
    cli(runner, url, "import", "--account", "acme", "--group", "DNC", str(tmp_path / "dnc.txt"))
    source = write(tmp_path / "campaign.csv", campaign)
    callable_out, blocked_out = tmp_path / "ok.csv", tmp_path / "blocked.csv"
    result = scrub(runner, url, source, callable_out, *options, blocked=blocked_out)
    return result, callable_out, blocked_out


def test_scrub_sends_every_row_to_exactly_one_output_in_order(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    result, callable_out, blocked_out = scrub_against(
        runner,
        acme,
        tmp_path,
        "9000000001\n9000000003\n",
        "id,phone\n1,9000000001\n2,9000000002\n3,not-a-number\n4,+91 90000 00003\n5,9000000004\n",
        "--column",
        "phone",
    )
    assert result.exit_code == 0, result.output
    assert "5 rows: 2 callable, 2 blocked, 1 invalid (" in result.stderr
    assert callable_out.read_text().splitlines() == ["id,phone", "2,9000000002", "5,9000000004"]
    blocked = blocked_out.read_text().splitlines()
    assert blocked[0] == "id,phone,status,reason,reason_code,next_callable_at"
    assert [line.split(",")[:3] for line in blocked[1:]] == [
        ["1", "9000000001", "blocked"],
        ["3", "not-a-number", "invalid"],
        ["4", "+91 90000 00003", "blocked"],
    ]
    assert blocked[1].endswith(",blocked by group 1 (DNC),blocked,")
    assert blocked[2].endswith(",invalid,not a valid phone number,,")


def test_scrub_outputs_keep_the_input_delimiter_and_pad_short_rows(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    result, callable_out, blocked_out = scrub_against(
        runner,
        acme,
        tmp_path,
        "9000000001\n",
        "phone;name;city\r\n9000000001;Asha;Pune\r\n9000000002;Ravi;Delhi\r\n9000000001\r\n",
    )
    assert result.exit_code == 0, result.output
    assert callable_out.read_text().splitlines() == ["phone;name;city", "9000000002;Ravi;Delhi"]
    reason = "blocked by group 1 (DNC)"
    assert blocked_out.read_text().splitlines() == [
        "phone;name;city;status;reason;reason_code;next_callable_at",
        f"9000000001;Asha;Pune;blocked;{reason};blocked;",
        f"9000000001;;;blocked;{reason};blocked;",  # the short row padded to the header's width
    ]


def test_scrub_for_a_campaign_counts_each_status_apart(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    """A row only the campaign's calling window keeps from being called now is
    not_callable_now, apart from blocked and invalid rows, in the file and in the summary."""
    write(tmp_path / "consent.txt", "9000000003\n")
    write(tmp_path / "registry.txt", "9000000001\n9000000003\n")
    for group, extra in (("Consent", ["--kind", "allow"]), ("Registry", ["--consent-overrides"])):
        made = cli(
            runner,
            acme,
            "import",
            "--account",
            "acme",
            "--group",
            group,
            *extra,
            str(tmp_path / f"{group.lower()}.txt"),
        )
        assert made.exit_code == 0, made.output
    # Open one hour a day, starting two hours from now in India: closed now.
    hour = datetime.now(ZoneInfo("Asia/Kolkata")).hour
    hours = f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"
    window = ["--days", "all", "--hours", hours]
    created = cli(runner, acme, "campaign", "create", "Spring", *window, "--account", "acme")
    assert created.exit_code == 0, created.output
    source = write(tmp_path / "calls.csv", "phone\n9000000001\n9000000003\nxx\n9000000004\n")
    ok, others = tmp_path / "ok.csv", tmp_path / "others.csv"

    result = scrub(runner, acme, source, ok, "--campaign", "spring", blocked=others)

    assert result.exit_code == 0, result.output
    assert "4 rows: 0 callable, 1 blocked, 1 invalid, 2 not callable now (" in result.stderr
    assert ok.read_text() == "phone\n"
    rows = list(csv.reader(others.read_text().splitlines()))
    assert rows[0] == ["phone", *files.SCRUB_COLUMNS]
    assert [row[:2] + row[3:4] for row in rows[1:]] == [
        ["9000000001", "blocked", "blocked"],
        ["9000000003", "not_callable_now", "consent_overrides_block;outside_calling_hours"],
        ["xx", "invalid", ""],
        ["9000000004", "not_callable_now", "outside_calling_hours"],
    ]
    opens = datetime.fromisoformat(rows[4][4])
    assert timedelta(0) < opens - datetime.now(UTC) <= timedelta(hours=2)
    assert rows[2][4] == rows[4][4]
    # Without the campaign: the global block groups only, and no not_callable_now.
    plain = scrub(runner, acme, source, ok, blocked=others)
    assert "4 rows: 1 callable, 2 blocked, 1 invalid (" in plain.stderr
    assert ok.read_text() == "phone\n9000000004\n"
    # An unknown campaign is said before anything is read or written.
    missing = scrub(runner, acme, source, tmp_path / "new.csv", "--campaign", "Nope")
    assert missing.exit_code == 1
    assert missing.stderr == "Error: no campaign named 'Nope'\n"
    assert not (tmp_path / "new.csv").exists()


def test_an_import_creates_its_group_as_asked_and_changes_no_existing_group(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    numbers = write(tmp_path / "l.txt", "9876543210\n")
    options = ["--kind", "allow", "--scope", "attached"]
    made = cli(
        runner, acme, "import", "--account", "acme", "--group", "Consent", *options, str(numbers)
    )
    assert made.exit_code == 0, made.output
    assert "created group 'Consent'" in made.stdout
    listing = cli(runner, acme, "group", "list", "--account", "acme")
    assert listing.stdout.splitlines()[1].split() == [
        "1",
        "allow",
        "attached",
        "both",
        "no",
        "1",
        "0",
        "Consent",
        "(refreshed",
        "just",
        "now",
        "from",
        "l.txt)",
    ]
    again = cli(
        runner, acme, "import", "--account", "acme", "--group", "consent", *options, str(numbers)
    )
    assert again.exit_code == 0, again.output  # what it already is: fine
    other = write(tmp_path / "m.txt", "9123456780\n")
    refused = cli(
        runner,
        acme,
        "import",
        "--account",
        "acme",
        "--group",
        "Consent",
        "--consent-overrides",
        str(other),
    )
    assert refused.exit_code == 1
    assert "not an allow group, attached, consent overrides it" in refused.stderr
    refused = cli(
        runner,
        acme,
        "import",
        "--account",
        "acme",
        "--group",
        "Consent",
        "--scope",
        "global",
        str(other),
    )
    assert refused.exit_code == 1
    assert (
        "group 'Consent' is an allow group, attached, not an allow group, global" in refused.stderr
    )
    assert set(group_numbers(acme, "Consent")) == {"+919876543210"}


# --- HTTP ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_http_import_export_and_scrub(
    client: httpx.AsyncClient, store: Store, main_account: Credentials, other_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Up")
    body = "phone\n9876543210\nbad\n9123456780\n"
    before = snapshot(store)
    refused = await client.post(
        f"/v1/groups/{group['id']}/numbers:import", content=body, headers=bearer(main_account)
    )
    assert refused.status_code == 422
    assert refused.json()["invalid_lines"] == [
        {"line": 3, "input": "bad", "reason": "not a valid phone number"}
    ]
    assert snapshot(store) == before
    done = await client.post(
        f"/v1/groups/{group['id']}/numbers:import",
        params={"skip_invalid": "true"},
        content=gzip.compress(body.encode()),
        headers=bearer(main_account),
    )
    assert done.json() == {
        "header": {"line": 1, "cells": ["phone"]},
        "added": 2,
        "updated": 0,
        "repeats": 0,
        "removed": 0,
        "invalid": [{"line": 3, "input": "bad", "reason": "not a valid phone number"}],
    }
    again = await client.post(
        f"/v1/groups/{group['id']}/numbers:import",
        content=b"9876543210\n",
        headers=bearer(main_account),
    )
    assert again.json()["header"] is None  # a first row of data is data
    assert (await client.get("/v1/check/9876543210", headers=bearer(main_account))).json()[
        "blocked"
    ]
    exported = await client.get(
        f"/v1/groups/{group['id']}/numbers.csv", headers=bearer(main_account)
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert [r["number"] for r in csv.DictReader(exported.text.splitlines())] == [
        "+919123456780",
        "+919876543210",
    ]
    scrubbed = await client.post(
        "/v1/scrub", content="phone\n9876543210\n9000000000\nxx\n", headers=bearer(main_account)
    )
    assert [line.split(",")[1:3] for line in scrubbed.text.splitlines()] == [
        ["status", "reason"],
        ["blocked", "blocked by group " + str(group["id"]) + " (Up)"],
        ["callable", ""],
        ["invalid", "not a valid phone number"],
    ]
    for request in (
        client.get(f"/v1/groups/{group['id']}/numbers.csv", headers=bearer(other_account)),
        client.post(
            f"/v1/groups/{group['id']}/numbers:import", content=body, headers=bearer(other_account)
        ),
    ):
        assert (await request).status_code == 404


# --- crash safety -------------------------------------------------------------------------------


@pytest.mark.server
def test_killing_an_import_midway_leaves_the_group_as_it_was(tmp_path: Path) -> None:
    database = tmp_path / "kill.db"
    url = f"sqlite:///{database}"
    base = [sys.executable, "-m", "callblock"]
    subprocess.run(
        [*base, "account", "create", "acme", "--database-url", url], check=True, capture_output=True
    )
    small = write(tmp_path / "small.txt", "9876543210\n")
    subprocess.run(
        [*base, "import", "--account", "acme", "--group", "GG", str(small), "--database-url", url],
        check=True,
        capture_output=True,
    )
    big = tmp_path / "big.txt"
    big.write_text("\n".join(str(9000000000 + i) for i in range(600_000)))
    process = subprocess.Popen(
        [*base, "import", "--account", "acme", "--group", "GG", str(big), "--database-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = Path(str(database) + "-wal")
    deadline = time.monotonic() + 120
    # Kill once the write transaction has started filling the log.
    while not (wal.exists() and wal.stat().st_size > 4 * 1024 * 1024):
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert set(group_numbers(url, "GG")) == {"+919876543210"}


@pytest.mark.anyio
async def test_file_routes_refuse_an_empty_body(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Empty")
    for path in (f"/v1/groups/{group['id']}/numbers:import", "/v1/scrub"):
        response = await client.post(path, content=b"", headers=bearer(main_account))
        assert response.status_code == 400, path
        assert response.headers["content-type"] == "application/problem+json"


# --- cases found by trying the commands as a user would ------------------------------------------


def test_a_headerless_file_keeps_its_first_row_and_finds_the_number_column(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    file = write(tmp_path / "nohdr.csv", "alice,9876543262,x\nbob,9876543263,y\n")
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert result.exit_code == 0, result.output
    assert set(group_numbers(acme, "GG")) == {"+919876543262", "+919876543263"}
    ok, blocked = tmp_path / "ok.csv", tmp_path / "b.csv"
    campaign = write(tmp_path / "c.csv", "carol,9876543262\ndave,9000000004\n")
    result = scrub(runner, acme, campaign, ok, blocked=blocked)
    assert result.exit_code == 0, result.output
    assert ok.read_text().splitlines() == ["dave,9000000004"]
    assert blocked.read_text().splitlines() == [
        "carol,9876543262,blocked,blocked by group 1 (GG),blocked,"
    ]


def test_short_rows_are_padded_so_the_status_keeps_its_column(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    campaign = write(tmp_path / "c.csv", "id,phone,name\n7\n8,9000000004,x\n")
    ok, blocked = tmp_path / "ok.csv", tmp_path / "b.csv"
    scrub(runner, acme, campaign, ok, "--column", "phone", blocked=blocked)
    assert blocked.read_text().splitlines() == [
        "id,phone,name,status,reason,reason_code,next_callable_at",
        "7,,,invalid,not a valid phone number,,",
    ]


def test_refused_commands_leave_existing_files_alone(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    keep = write(tmp_path / "keep.csv", "precious\n")
    result = cli(runner, acme, "export", "--account", "acme", "--group", "Nope", "-o", str(keep))
    assert result.exit_code == 1
    assert keep.read_text() == "precious\n"
    campaign = write(tmp_path / "c.csv", "phone\n9000000004\n")
    result = scrub(runner, acme, campaign, keep, "--column", "nope", blocked=tmp_path / "new.csv")
    assert result.exit_code == 1
    assert keep.read_text() == "precious\n"
    assert not (tmp_path / "new.csv").exists()
    same = scrub(runner, acme, campaign, campaign)
    assert same.exit_code == 2
    assert campaign.read_text() == "phone\n9000000004\n"


def test_a_column_beyond_the_row_is_refused(runner: CliRunner, acme: str, tmp_path: Path) -> None:
    file = write(tmp_path / "l.csv", "9876543210,a\n")
    result = cli(
        runner, acme, "import", "--account", "acme", "--group", "GG", "--column", "9", str(file)
    )
    assert result.exit_code == 1
    assert "no column '9'" in result.stderr


def test_expiries_take_only_the_documented_forms(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    file = write(
        tmp_path / "l.csv",
        "phone,expires\n9876543210,2099-01-31\n9123456780,2099-01-31T18:00:00\n"
        "9811122233,2099-01-31T18:00:00+05:30\n9000000004,2099-01-31 18:00:00\n",
    )
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(file))
    assert result.exit_code == 1
    assert "line 2: '9876543210'" in result.stderr
    assert "line 3: '9123456780'" in result.stderr
    assert "line 4" not in result.stderr
    assert "line 5" not in result.stderr


def test_bytes_that_are_not_utf8_point_at_their_own_line(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    lines = [b"9" + str(100000000 + i).encode() for i in range(200_001)] + [b"98765\xff43210"]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    result = cli(runner, acme, "import", "--account", "acme", "--group", "GG", str(bad))
    assert result.exit_code == 1
    assert "line 200002:" in result.stderr
    campaign = tmp_path / "c.csv"
    campaign.write_bytes(b"name,phone\ncaf\xe9,9000000004\n")
    ok = tmp_path / "ok.csv"
    result = scrub(runner, acme, campaign, ok, "--column", "phone")
    assert result.exit_code == 0, result.output
    assert ok.read_bytes() == b"name,phone\ncaf\xe9,9000000004\n"  # the same bytes back


@pytest.mark.anyio
async def test_an_unreadable_scrub_upload_is_refused_before_any_row_is_sent(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    body = "phone\n" + "9000000004\n" * 100_000 + '"' + "x" * (1024 * 1024 + 10) + '"\n'
    response = await client.post("/v1/scrub", content=body, headers=bearer(main_account))
    problem(response, 400)


def test_a_file_without_numbers_imports_nothing_and_creates_no_group(
    runner: CliRunner, acme: str, store: Store, tmp_path: Path
) -> None:
    before = snapshot(store)
    for content in ("", "phone\n", "\n\n"):
        file = write(tmp_path / "empty.csv", content)
        result = cli(runner, acme, "import", "--account", "acme", "--group", "Empty", str(file))
        assert result.exit_code == 1
        assert "holds no numbers" in result.stderr
    assert snapshot(store) == before


def test_a_damaged_number_on_the_first_line_is_an_invalid_line_not_a_header(
    runner: CliRunner, acme: str, store: Store, tmp_path: Path
) -> None:
    before = snapshot(store)
    for first in ("98765x43490", "x9876543490", "ab9876543490"):
        file = write(tmp_path / "t.txt", f"{first}\n9876543491\n")
        result = cli(runner, acme, "import", "--account", "acme", "--group", "T1", str(file))
        assert result.exit_code == 1
        assert f"line 1: {first!r}: not a valid phone number" in result.stderr
    assert snapshot(store) == before
    named = write(tmp_path / "named.txt", "Phone\n9876543491\n")  # a usual column name
    result = cli(runner, acme, "import", "--account", "acme", "--group", "T2", str(named))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output


@pytest.mark.anyio
async def test_http_import_of_a_file_without_numbers_is_refused(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Up")
    before = snapshot(store)
    for body in ("phone\n", "\n\n", "phone,expires_at\n"):
        refused = await client.post(
            f"/v1/groups/{group['id']}/numbers:import", content=body, headers=bearer(main_account)
        )
        assert refused.status_code == 422
        assert refused.json()["type"] == "urn:callblock:problem:nothing-to-import"
    assert snapshot(store) == before


@pytest.mark.anyio
async def test_a_gzip_that_unpacks_past_the_limit_is_refused(
    service: Service, database_url: str, store: Store, main_account: Credentials
) -> None:
    app = create_app(Settings(database_url=database_url, max_import_bytes=100_000), service=service)
    bomb = gzip.compress(b"9876543210\n" * 1_000_000)  # 11 MB unpacked, 20 kB packed
    assert len(bomb) < 100_000
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://callblock.test") as client:
        group = await new_group(client, main_account, "Bomb")
        before = snapshot(store)
        for url in (f"/v1/groups/{group['id']}/numbers:import", "/v1/scrub"):
            refused = await client.post(url, content=bomb, headers=bearer(main_account))
            assert refused.status_code == 413, refused.text
            assert "unpacked" in refused.json()["detail"]
        assert snapshot(store) == before


@pytest.mark.anyio
async def test_a_quote_left_open_is_refused_not_merged(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    body = 'id,phone\n1,"unterminated\n2,9123456789\n'
    scrubbed = await client.post("/v1/scrub", content=body, headers=bearer(main_account))
    assert scrubbed.status_code == 400
    assert "unexpected end of data" in scrubbed.json()["detail"]


def test_an_output_that_cannot_be_written_is_named(
    runner: CliRunner, acme: str, tmp_path: Path
) -> None:
    campaign = write(tmp_path / "c.csv", "phone\n9000000001\n")
    result = scrub(runner, acme, campaign, Path("/nonexistent/o.csv"))
    assert result.exit_code == 1
    assert "cannot write /nonexistent/o.csv" in result.stderr
