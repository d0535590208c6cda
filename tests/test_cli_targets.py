"""The commands that take a target say the same on the local database (`--account`) as on a
real server (`--url --api-key`): each is written once, against `cli.operations.Operations`."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner, Result

from callblock.cli import main
from callblock.domain import Actor, EntryStatus, Surface
from callblock.service import Service
from callblock.store import Store
from tests.servers import Server, callblock, start_server, stop_server

Targets = tuple[list[str], list[str]]


@contextmanager
def two_targets(folder: Path, **settings: str) -> Iterator[Targets]:
    """The options naming each target: the same account, alone on its own database, once
    used locally and once through a server (started with ``settings``)."""
    local_url = f"sqlite:///{folder / 'local.db'}"
    served_url = f"sqlite:///{folder / 'served.db'}"
    callblock("account", "create", "acme", database_url=local_url)
    out = callblock("account", "create", "acme", database_url=served_url).stdout
    key = out.strip().splitlines()[-1]
    server: Server = start_server(served_url, **settings)
    try:
        yield (
            ["--account", "acme", "--database-url", local_url],
            ["--url", server.url, "--api-key", key],
        )
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    with two_targets(tmp_path_factory.mktemp("targets")) as both_targets:
        yield both_targets


@pytest.fixture
def fresh_targets(tmp_path: Path) -> Iterator[Targets]:
    """Two targets with nothing written yet: the ids they give agree."""
    with two_targets(tmp_path) as both_targets:
        yield both_targets


def both(targets: tuple[list[str], list[str]], *args: str) -> tuple[Result, Result]:
    runner = CliRunner()
    local, remote = (runner.invoke(main, [*args, *options]) for options in targets)
    return local, remote


def timeless(text: str) -> str:
    """Output without its timings, and without the line count only the local target knows."""
    text = re.sub(r"\(\d+\.\d s\)", "(time)", text)
    return re.sub(r"; (\d+ lines|sent) in \d+\.\d s", "; in time", text)


@pytest.mark.server
def test_the_same_commands_say_the_same_on_both_targets(
    targets: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    created = both(targets, "group", "create", "Spam callers", "--direction", "inbound")
    assert created[0].exit_code == created[1].exit_code == 0, created[1].output
    assert created[0].stdout == created[1].stdout

    numbers = tmp_path / "numbers.csv"
    numbers.write_text("phone,note\n9876543210,a\nnot a number,b\n140*,c\n9876543210,d\n")
    imported = both(targets, "import", str(numbers), "--group", "Spam callers", "--skip-invalid")
    assert imported[0].exit_code == imported[1].exit_code == 0, imported[1].output
    assert "1 invalid line skipped, 1 repeated lines" in imported[0].stdout
    assert timeless(imported[0].stdout) == timeless(imported[1].stdout)
    assert imported[0].stderr == imported[1].stderr
    assert "line 3: 'not a number'" in imported[1].stderr

    # All or nothing on both, the group it would have created included.
    refused = both(targets, "import", str(numbers), "--group", "Never made")
    assert refused[0].exit_code == refused[1].exit_code == 1
    assert refused[0].stderr == refused[1].stderr
    assert "nothing imported: 1 invalid line (fix them" in refused[1].stderr

    listed = both(targets, "group", "list")
    assert listed[0].stdout == listed[1].stdout
    assert "Never made" not in listed[1].stdout
    assert re.search(r"block\s+global\s+inbound\s+no\s+2\s+0\s+Spam callers", listed[1].stdout)

    for args in (["0987 654 3210", "--direction", "inbound"], ["1401234567"], ["98765"], [" "]):
        checked = both(targets, "check", *args)
        assert checked[0].exit_code == checked[1].exit_code, checked[1].output
        assert (checked[0].stdout, checked[0].stderr) == (checked[1].stdout, checked[1].stderr)
    assert "+919876543210: BLOCKED" in both(targets, "check", "9876543210")[1].stdout

    exported = both(targets, "export", "--group", "spam CALLERS")
    assert exported[0].exit_code == exported[1].exit_code == 0, exported[1].output
    assert exported[0].stderr == exported[1].stderr == "exported 2 entries\n"
    # Every column but the times the entries were written, and who wrote them.
    rows = [[r[:5] for r in csv.reader(e.stdout.splitlines())] for e in exported]
    assert rows[0] == rows[1]
    assert [r[0] for r in rows[1][1:]] == ["+91140*", "+919876543210"]

    calls = tmp_path / "calls.csv"
    calls.write_text("name;phone\nAsha;9876543210\nRavi;9123456789\nMeena;12ab\nDev;1409999999\n")
    outputs = []
    for n, options in enumerate(targets):
        ok, blocked = tmp_path / f"ok{n}.csv", tmp_path / f"blocked{n}.csv"
        scrubbed = CliRunner().invoke(
            main,
            [
                "scrub",
                str(calls),
                "--direction",
                "inbound",
                "-o",
                str(ok),
                "--blocked",
                str(blocked),
                *options,
            ],
        )
        assert scrubbed.exit_code == 0, scrubbed.output
        outputs.append((timeless(scrubbed.stderr), ok.read_text(), blocked.read_text()))
    assert outputs[0] == outputs[1]
    assert outputs[1][1] == "name;phone\nRavi;9123456789\n"
    assert "4 rows: 1 callable, 2 blocked, 1 invalid (time)" in outputs[1][0]
    assert outputs[1][2].splitlines() == [
        "name;phone;status;reason;reason_code;next_callable_at",
        "Asha;9876543210;blocked;blocked by group 1 (Spam callers);blocked;",
        "Meena;12ab;invalid;not a valid phone number;;",
        "Dev;1409999999;blocked;blocked by group 1 (Spam callers), prefix +91140*;"
        "blocked_by_prefix;",
    ]

    group_id = created[1].stdout.strip().splitlines()[-1]
    deleted = both(targets, "group", "delete", group_id)
    assert deleted[0].exit_code == deleted[1].exit_code == 0
    assert deleted[0].stdout == deleted[1].stdout
    again = both(targets, "group", "delete", group_id)
    assert again[0].exit_code == again[1].exit_code == 1
    assert again[0].stderr == again[1].stderr == "Error: no such group\n"
    missing = both(targets, "export", "--group", "Spam callers")
    assert missing[0].exit_code == missing[1].exit_code == 1
    assert missing[0].stderr == missing[1].stderr == "Error: no such group\n"


@pytest.mark.server
def test_purge_expired_says_the_same_on_both_targets(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    # Targets of its own: on shared ones, a refused import elsewhere leaves the server's ids
    # one ahead (it made and removed a group), and the listings would differ.
    targets = fresh_targets
    # Imports take only future expiries: these expire two seconds from now, on both.
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    numbers = tmp_path / "expiring.csv"
    numbers.write_text(f"number,expires\n9000000001,{soon}\n140*,{soon}\n9000000002,\n")
    for options in targets:
        imported = CliRunner().invoke(
            main,
            ["import", str(numbers), "--group", "Expiring", "--expiry-column", "expires", *options],
        )
        assert imported.exit_code == 0, imported.output
    group_id = same(both(targets, "group", "list")).split("Expiring")[0].splitlines()[-1].split()[0]
    time.sleep(2.5)

    said = same(both(targets, "purge-expired", "expiring"))  # by name, in any case
    assert said == "removed 2 expired entries from group 'Expiring'\n"
    again = same(both(targets, "purge-expired", group_id))  # by id
    assert again == "removed 0 expired entries from group 'Expiring'\n"
    exported = both(targets, "export", "--group", "Expiring")
    assert [e.stdout.splitlines()[1].split(",")[0] for e in exported] == ["+919000000002"] * 2
    missing = same(both(targets, "purge-expired", "No such"), code=1)
    assert missing == "Error: no group named 'No such'\n"


def same(results: tuple[Result, Result], code: int = 0) -> str:
    """What both targets said, once: the same exit status, output and errors."""
    local, remote = results
    assert local.exit_code == remote.exit_code == code, (local.output, remote.output)
    assert (timeless(local.stdout), local.stderr) == (timeless(remote.stdout), remote.stderr)
    return local.stdout + local.stderr


def closed_for_two_hours() -> str:
    """Hours of a one-hour window that opens in two hours in India: closed now."""
    hour = datetime.now(ZoneInfo("Asia/Kolkata")).hour
    return f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"


@pytest.mark.server
def test_campaigns_say_the_same_on_both_targets(fresh_targets: Targets, tmp_path: Path) -> None:
    def run(*args: str, code: int = 0) -> str:
        return same(both(fresh_targets, *args), code)

    assert "(block group, global)" in run("group", "create", "Own DNC")
    assert "consent overrides it" in run("group", "create", "Registry", "--consent-overrides")
    assert "(allow group, attached)" in run(
        "group", "create", "Consent", "--kind", "allow", "--scope", "attached"
    )
    lists = {
        "own": "9800000001\n",
        "registry": "9800000002\n9800000003\n9811*\n",
        "consent": "9800000003\n",
        "attached": "9800000008\n",
    }
    for name, numbers in lists.items():
        (tmp_path / f"{name}.txt").write_text(numbers)
    run("import", str(tmp_path / "own.txt"), "--group", "Own DNC")
    run("import", str(tmp_path / "registry.txt"), "--group", "registry")
    run("import", str(tmp_path / "consent.txt"), "--group", "Consent", "--kind", "allow")
    created = run(
        "import", str(tmp_path / "attached.txt"), "--group", "Campaign list", "--scope", "attached"
    )
    assert "created group 'Campaign list' (id 4)" in created
    # An import does not change a group: asked for another kind, it refuses and writes nothing.
    refused = run(
        "import", str(tmp_path / "own.txt"), "--group", "Consent", "--kind", "block", code=1
    )
    assert "group 'Consent' is an allow group, attached, not a block group, attached" in refused
    listing = run("group", "list")
    assert re.search(r"3  allow attached both\s+no\s+1\s+0  Consent", listing)
    assert re.search(r"2  block global\s+both\s+yes\s+3\s+0  Registry", listing)

    made = run(
        "campaign",
        "create",
        "Spring",
        "--days",
        "all",
        "--hours",
        "00:00-24:00",
        "--group",
        "Consent",
        "--group",
        "4",
    )
    assert made.splitlines()[-1] == "1"
    assert "block groups:   4 (Campaign list, attached)" in made
    assert "allow groups:   3 (Consent, attached)" in made
    assert re.search(r"1  every day 00:00-24:00\s+1\s+1  Spring", run("campaign", "list"))
    assert run("campaign", "show", "1") == run("campaign", "show", "SPRING")

    lifted = run("check", "9800000003", "--campaign", "spring")
    assert lifted.splitlines() == [
        "+919800000003: callable (campaign 'Spring')",
        "  consent_overrides_block: consent in group 3 (Consent) overrides group 2 (Registry)",
    ]
    assert run("check", "9800000001", "--campaign", "1").splitlines() == [
        "+919800000001: NOT CALLABLE (campaign 'Spring')",
        "  blocked: blocked by group 1 (Own DNC)",
    ]
    assert "NOT CALLABLE" in run("check", "9800000008", "--campaign", "Spring")
    assert run("check", "12ab", "--campaign", "Spring", code=2) == (
        "12ab: not a valid phone number\n"
    )
    assert run("check", "9800000008") == "+919800000008: not blocked\n"  # attached only
    assert "blocked_by_prefix: blocked by group 2 (Registry), prefix +919811*" in run(
        "check", "9811000007", "--campaign", "Spring"
    )

    run("campaign", "set-window", "Spring", "--days", "all", "--hours", closed_for_two_hours())
    later = run("check", "9800000006", "--campaign", "Spring").splitlines()
    assert later[:2] == [
        "+919800000006: NOT CALLABLE NOW (campaign 'Spring')",
        "  outside_calling_hours: outside calling hours in Asia/Calcutta",
    ]
    assert later[2].startswith("  next callable at 20")

    calls = tmp_path / "calls.csv"
    calls.write_text("name,phone\nAsha,9800000001\nRavi,9800000003\nMeena,12ab\nDev,9800000006\n")
    scrubbed = []
    for n, options in enumerate(fresh_targets):
        ok, others = tmp_path / f"ok{n}.csv", tmp_path / f"others{n}.csv"
        result = CliRunner().invoke(
            main,
            [
                "scrub",
                str(calls),
                "--campaign",
                "Spring",
                "-o",
                str(ok),
                "--blocked",
                str(others),
                *options,
            ],
        )
        assert result.exit_code == 0, result.output
        scrubbed.append((timeless(result.stderr), ok.read_text(), others.read_text()))
    assert scrubbed[0] == scrubbed[1]
    summary, ok_rows, other_rows = scrubbed[1]
    assert "4 rows: 0 callable, 1 blocked, 1 invalid, 2 not callable now (time)" in summary
    assert ok_rows == "name,phone\n"
    rows = list(csv.reader(other_rows.splitlines()))
    assert rows[0] == ["name", "phone", "status", "reason", "reason_code", "next_callable_at"]
    assert [(r[0], r[2], r[4]) for r in rows[1:]] == [
        ("Asha", "blocked", "blocked"),
        ("Ravi", "not_callable_now", "consent_overrides_block;outside_calling_hours"),
        ("Meena", "invalid", ""),
        ("Dev", "not_callable_now", "outside_calling_hours"),
    ]
    assert rows[2][5] == rows[4][5] != ""  # the window's next opening, for both

    assert "block groups:   none" in run("campaign", "detach", "Spring", "Campaign list")
    assert "block groups:   1 (Own DNC)" in run("campaign", "attach", "Spring", "own dnc")
    assert "calling window: any time" in run("campaign", "set-window", "Spring", "--none")

    # Refusals: said alike, and nothing written.
    assert run("check", "9800000001", "--campaign", "Nope", code=1) == (
        "Error: no campaign named 'Nope'\n"
    )
    assert run("campaign", "attach", "Spring", "Ghost", code=1) == (
        "Error: no group named 'Ghost'\n"
    )
    assert run("campaign", "show", "42", code=1) == (
        "Error: no campaign named '42' or with that id\n"
    )
    assert "--hours is missing" in run("campaign", "create", "Autumn", "--days", "mon-fri", code=2)
    assert "'xyz' in 'mon-xyz' is not a day" in run(
        "campaign", "set-window", "Spring", "--days", "mon-xyz", "--hours", "09:00-21:00", code=2
    )
    assert "give either --days and --hours, or --none" in run(
        "campaign", "set-window", "Spring", code=2
    )
    assert "--consent-overrides" in run(
        "group", "create", "Odd", "--kind", "allow", "--consent-overrides", code=2
    )
    taken = both(fresh_targets, "campaign", "create", "SPRING")
    assert taken[0].exit_code == taken[1].exit_code == 1
    assert "already exists" in taken[0].stderr
    assert "already exists" in taken[1].stderr
    assert re.search(r"1  any time\s+1\s+1  Spring\n$", run("campaign", "list"))

    assert run("campaign", "delete", "Spring") == "deleted campaign 1 (Spring); its groups stay\n"
    run("campaign", "show", "Spring", code=1)
    assert "Own DNC" in run("group", "list")


@pytest.mark.parametrize(
    "args",
    [
        ["check", "9876543210"],
        ["group", "list"],
        ["import", "FILE", "--group", "G"],
        ["export", "--group", "G"],
        ["scrub", "FILE", "-o", "OUT"],
    ],
)
def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path: Path, args: list[str]) -> None:
    file = tmp_path / "list.csv"
    file.write_text("phone\n9876543210\n")
    args = [
        str(file) if a == "FILE" else str(tmp_path / "out.csv") if a == "OUT" else a for a in args
    ]
    result = CliRunner().invoke(main, [*args, "--url", "http://127.0.0.1:9", "--api-key", "k"])
    assert result.exit_code == 1, result.output
    assert "no answer" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.server
@pytest.mark.parametrize(
    "args",
    [
        ["check", "9876543210"],
        ["group", "list"],
        ["import", "FILE", "--group", "G"],
        ["export", "--group", "G"],
        ["scrub", "FILE", "-o", "OUT"],
    ],
)
def test_a_refused_api_key_is_said_to_be_refused(
    targets: Targets, tmp_path: Path, args: list[str]
) -> None:
    """Not "401 Authentication required": the key was given, and refused."""
    file = tmp_path / "list.csv"
    file.write_text("phone\n9876543210\n")
    args = [
        str(file) if a == "FILE" else str(tmp_path / "out.csv") if a == "OUT" else a for a in args
    ]
    url = targets[1][targets[1].index("--url") + 1]
    wrong = "cbk_" + "x" * 43
    result = CliRunner().invoke(main, [*args, "--url", url, "--api-key", wrong])
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "Error: 401 the API key given was refused (--api-key or CALLBLOCK_API_KEY): it is "
        "wrong or revoked, or not a key of the server at --url\n"
    )
    assert not (tmp_path / "out.csv").exists()


def invalid_list(folder: Path, count: int) -> Path:
    """A list with a header, ``count`` invalid numbers and one valid one."""
    file = folder / "invalid.csv"
    rows = [f"n{i},12ab{i}\n" for i in range(count)]
    file.write_text("name,phone\n" + "".join(rows) + "last,9876543210\n")
    return file


def each(targets: Targets, folder: Path, *args: str) -> list[tuple[Result, Path]]:
    """The command on each target, with its own --invalid-out file (``out0.csv``,
    ``out1.csv``)."""
    runs = []
    for n, options in enumerate(targets):
        out = folder / f"out{n}.csv"
        runs.append((CliRunner().invoke(main, [*args, "--invalid-out", str(out), *options]), out))
    return runs


@pytest.mark.server
def test_an_import_shows_the_first_100_invalid_lines_and_their_count(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    file = invalid_list(tmp_path, 250)
    refused = same(both(fresh_targets, "import", str(file), "--group", "Bad list"), code=1)
    assert refused.splitlines() == [
        "numbers read from column 2 ('phone')",
        *(f"line {n + 2}: '12ab{n}': not a valid phone number" for n in range(100)),
        "... and 150 more (250 invalid lines): --invalid-out FILE writes them all",
        "Error: nothing imported: 250 invalid lines (fix them, or pass --skip-invalid to "
        "import the others)",
    ]
    # (The group's id differs: a server's refused import made and removed one.)
    skipped = both(fresh_targets, "import", str(file), "--group", "Bad list", "--skip-invalid")
    assert skipped[0].exit_code == skipped[1].exit_code == 0, skipped[1].output
    assert skipped[0].stderr == skipped[1].stderr
    assert len(skipped[0].stderr.splitlines()) == 1 + 100 + 1 + 1  # and the header line
    assert "... and 150 more (250 invalid lines): --invalid-out FILE writes them all\n" in (
        skipped[1].stderr
    )
    assert "1 added, 0 already there, 250 invalid lines skipped" in skipped[1].stdout


@pytest.mark.server
def test_invalid_out_writes_every_invalid_line_also_when_the_import_is_refused(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    file = invalid_list(tmp_path, 250)
    expected = [
        ["line", "input", "reason"],
        *([str(n + 2), f"12ab{n}", "not a valid phone number"] for n in range(250)),
    ]
    for skip in ([], ["--skip-invalid"]):
        runs = each(fresh_targets, tmp_path, "import", str(file), "--group", "Bad list", *skip)
        for result, out in runs:
            assert result.exit_code == (0 if skip else 1), result.output
            lines = result.stderr.splitlines()
            assert len(lines) == 1 + 100 + 1 + 1  # columns, lines, count, error or header
            assert f"250 invalid lines, all written to {out}" in lines
            with out.open(newline="") as written:
                assert list(csv.reader(written)) == expected
        if not skip:  # the refused import wrote nothing, not even the group
            for listed in both(fresh_targets, "group", "list"):
                assert "Bad list" not in listed.stdout


@pytest.mark.server
def test_a_server_lists_only_the_first_10000_invalid_lines_of_a_refused_import(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    file = invalid_list(tmp_path, 10_050)
    (local, local_out), (remote, remote_out) = each(
        fresh_targets, tmp_path, "import", str(file), "--group", "Bad list"
    )
    assert local.exit_code == remote.exit_code == 1
    assert f"10,050 invalid lines, all written to {local_out}" in local.stderr
    assert (
        f"10,050 invalid lines, the first 10,000, all the server lists, written to {remote_out}"
        in remote.stderr
    )
    assert "nothing imported: 10,050 invalid lines" in remote.stderr
    assert len(local_out.read_text().splitlines()) == 1 + 10_050
    assert len(remote_out.read_text().splitlines()) == 1 + 10_000
    without_file = CliRunner().invoke(
        main, ["import", str(file), "--group", "Bad list", *fresh_targets[1]]
    )
    assert (
        "... and 9,950 more (10,050 invalid lines): --invalid-out FILE writes the first 10,000, "
        "all the server lists" in without_file.stderr
    )


@pytest.mark.server
def test_an_import_says_which_columns_it_found(fresh_targets: Targets, tmp_path: Path) -> None:
    def said(text: str, *options: str) -> list[str]:
        file = tmp_path / "list.csv"
        file.write_text(text)
        out = same(both(fresh_targets, "import", str(file), "--group", "Found", *options))
        return [line for line in out.splitlines() if "read from" in line]

    expiring = "name,phone,expires_at\nAsha,9876543210,2099-01-01T00:00:00Z\n"
    assert said(expiring) == [
        "numbers read from column 2 ('phone'), expiries read from column 3 ('expires_at')"
    ]
    assert said(expiring, "--column", "phone") == ["expiries read from column 3 ('expires_at')"]
    assert said(expiring, "--column", "2", "--expiry-column", "3") == []
    assert said("Asha,9876543210\n") == ["numbers read from column 2"]
    assert said("9876543210\n9123456780\n") == []  # one column: nothing was chosen
    pairs = ["numbers read from columns 1-2 (area code, number)"]
    assert said("416,2345678\n647,3456789\n") == pairs  # found
    assert said("416,2345678\n", "--format", "area-code-pair") == pairs  # named


@pytest.mark.server
def test_an_unwritable_invalid_out_is_a_usage_error_before_anything_is_imported(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    file = invalid_list(tmp_path, 1)
    nowhere = str(tmp_path / "missing" / "invalid.csv")
    args = ["import", str(file), "--group", "Bad list", "--skip-invalid", "--invalid-out"]
    said = same(both(fresh_targets, *args, nowhere), code=2)
    assert f"Invalid value for --invalid-out: cannot write {nowhere}" in said
    assert "Bad list" not in same(both(fresh_targets, "group", "list"))
    itself = same(both(fresh_targets, *args, str(file)), code=2)
    assert "--invalid-out must not be the file imported" in itself
    assert file.read_text().startswith("name,phone\n")


def notes(targets: Targets, group_id: int) -> tuple[dict[str, str | None], ...]:
    """Each target's entries of the group, number to note: read back through the service on
    the local database, through ``GET /v1/groups/{id}/numbers`` on the server."""
    local, remote = targets
    store = Store.from_url(local[local.index("--database-url") + 1])
    try:
        service = Service(store)
        actor = Actor(service.account("acme"), None, Surface.CLI)
        page = service.list_entries(
            actor, group_id, status=EntryStatus.ALL, q=None, after=None, limit=100
        )
    finally:
        store.dispose()
    url, key = remote[remote.index("--url") + 1], remote[remote.index("--api-key") + 1]
    answer = httpx.get(
        f"{url}/v1/groups/{group_id}/numbers", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    return (
        {e.pattern: e.note for e in page.items},
        {e["number"]: e["note"] for e in answer.json()["data"]},
    )


@pytest.mark.server
def test_an_import_sets_its_note_on_the_entries_on_both_targets(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    """--note lands on every entry the file holds, those already there too, as the HTTP
    import's note does; an import without it leaves the notes; a change list sets it on the
    entries it adds."""
    first, full, changes = tmp_path / "first.txt", tmp_path / "full.txt", tmp_path / "chg.csv"
    first.write_text("9000000001\n")
    full.write_text("9000000001\n9000000002\n")
    changes.write_text("op,number\nA,9000000003\nD,9000000002\n")

    def imported(file: Path, *options: str) -> str:
        return same(both(fresh_targets, "import", str(file), "--group", "Registry", *options))

    assert "created group 'Registry' (id 1): 1 added" in imported(first, "--note", "first")
    assert notes(fresh_targets, 1) == ({"+919000000001": "first"},) * 2
    said = imported(full, "--note", "March registry")
    assert "updated group 'Registry' (id 1): 1 added, 1 already there" in said
    march = {"+919000000001": "March registry", "+919000000002": "March registry"}
    assert notes(fresh_targets, 1) == (march, march)
    imported(full)  # without --note: each entry keeps its own
    assert notes(fresh_targets, 1) == (march, march)
    said = imported(changes, "--changes", "--note", "April changes")
    assert "changed group 'Registry' (id 1): 1 added, 0 already there, 1 removed" in said
    changed = {"+919000000001": "March registry", "+919000000003": "April changes"}
    assert notes(fresh_targets, 1) == (changed, changed)


@pytest.mark.server
@pytest.mark.parametrize(
    ("note", "fault"),
    [
        ("x" * 501, "501 characters"),
        ("a\x00b", "it holds NUL, or bytes that are not UTF-8"),
        ("\udcff", "it holds NUL, or bytes that are not UTF-8"),  # an argument not UTF-8
    ],
)
def test_an_invalid_note_is_refused_and_nothing_is_written(
    fresh_targets: Targets, tmp_path: Path, note: str, fault: str
) -> None:
    file = invalid_list(tmp_path, 1)
    kept = tmp_path / "kept.txt"
    kept.write_text("9000000001\n")
    same(both(fresh_targets, "import", str(kept), "--group", "Kept", "--note", "as it was"))
    for group in ("New", "Kept"):
        for changes in ([], ["--changes"]) if group == "Kept" else ([],):
            runs = each(
                fresh_targets,
                tmp_path,
                "import",
                str(file if group == "New" else kept),
                "--group",
                group,
                "--skip-invalid",
                "--note",
                note,
                *changes,
            )
            said = same((runs[0][0], runs[1][0]), code=2)
            assert said.splitlines()[-1] == (
                f"Error: Invalid value for --note: {fault}; a note is up to 500 characters, "
                "without NUL"
            )
            assert not any(out.exists() for _, out in runs)  # --invalid-out not written either
    listed = same(both(fresh_targets, "group", "list"))
    assert "New" not in listed
    assert notes(fresh_targets, 1) == ({"+919000000001": "as it was"},) * 2


@pytest.mark.server
def test_replace_and_change_lists_say_the_same_on_both_targets(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    """A registry replaced by a full list (the removal guard first refusing a truncated one)
    and changed by a change list, on both targets alike."""
    full = tmp_path / "full.txt"
    full.write_text("".join(f"{9000000000 + n}\n" for n in range(10)))
    truncated = tmp_path / "truncated.txt"
    truncated.write_text("".join(f"{9000000000 + n}\n" for n in range(7)) + "9100000000\n")
    changes = tmp_path / "changes.csv"
    changes.write_text("op,number\nD,9000000000\nadd,9100000001\n+,9000000001\n")
    same(both(fresh_targets, "import", str(full), "--group", "Registry"))
    refused = same(
        both(fresh_targets, "import", str(truncated), "--group", "Registry", "--replace"), code=1
    )
    assert "nothing replaced: the file would remove 3 of the group's 10 entries" in refused
    replaced = same(
        both(
            fresh_targets,
            "import",
            str(truncated),
            "--group",
            "Registry",
            "--replace",
            "--max-removal",
            "30%",
        )
    )
    assert "replaced group 'Registry' (id 1): 1 added, 7 already there, 3 removed" in replaced
    changed = same(both(fresh_targets, "import", str(changes), "--group", "Registry", "--changes"))
    assert "operations read from column 1 ('op')" in changed
    assert "changed group 'Registry' (id 1): 1 added, 1 already there, 1 removed" in changed
    listed = [
        CliRunner().invoke(main, ["export", "--group", "Registry", *options])
        for options in fresh_targets
    ]
    numbers = [{line.split(",")[0] for line in r.stdout.splitlines()[1:]} for r in listed]
    expected = {f"+91{9000000000 + n}" for n in range(1, 7)} | {"+919100000000", "+919100000001"}
    assert numbers == [expected, expected]
    missing = same(
        both(fresh_targets, "import", str(changes), "--group", "Nowhere", "--changes"), code=1
    )
    assert missing.endswith("Error: no such group\n")


# --- insights: `callblock stats` and `callblock stale` ----------------------------------------


@pytest.fixture
def counting_targets(tmp_path: Path) -> Iterator[Targets]:
    """Two fresh targets, the server writing the checks it counts every 0.3 s."""
    with two_targets(tmp_path, stats_flush_seconds="0.3") as both_targets:
        yield both_targets


SINGLES = ("9800000001", "9811111111")
BATCH = ("9800000001", "x", "01401234567")


def check_on_both(targets: Targets) -> None:
    """The same checks on each target, counted: on the server, as its API answers them; on
    the local database, as a server process would count them (the CLI's own checks are not
    counted), written at once."""
    local, remote = targets
    store = Store.from_url(local[local.index("--database-url") + 1])
    try:
        service = Service(store, count_checks=True)
        actor = Actor(service.account("acme"), None, Surface.CLI)
        for number in SINGLES:
            service.check(actor, number, None)
        service.check_many(actor, list(BATCH), None)
        assert service.flush_counts() == 5
    finally:
        store.dispose()
    url, key = remote[remote.index("--url") + 1], remote[remote.index("--api-key") + 1]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
        for number in SINGLES:
            assert api.get(f"/v1/check/{number}").status_code == 200
        assert api.post("/v1/check", json={"numbers": list(BATCH)}).status_code == 200
        deadline = time.monotonic() + 15
        while api.get("/v1/stats", params={"bucket": "day"}).json()["checks"] < 5:
            assert time.monotonic() < deadline, "the server's counts did not show"
            time.sleep(0.1)


@pytest.mark.server
def test_stats_and_stale_say_the_same_on_both_targets(
    counting_targets: Targets, tmp_path: Path
) -> None:
    targets = counting_targets
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("9800000001\n9800000002\n140*\n")
    for options in targets:
        imported = CliRunner().invoke(main, ["import", str(numbers), "--group", "DNC", *options])
        assert imported.exit_code == 0, imported.output
    assert same(both(targets, "campaign", "create", "Spring")).startswith("campaign 1: Spring")
    check_on_both(targets)

    said = same(both(targets, "stats", "--bucket", "day", "--group", "dnc"))
    lines = [line.split() for line in said.splitlines()]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert [today, "5", "3", "60.0%", "1", "3"] in lines
    assert "5 checks, 3 blocked (60.0%), 1 not a number" in said
    assert ["1", "DNC", "3", "60.0%"] in lines
    assert said.endswith("DNC     +91 98000 00001      1\n")
    # A campaign with no checks of its own: none counted.
    mine = same(both(targets, "stats", "--campaign", "spring"))
    assert "(campaign 'Spring')\nno checks counted in this range\n" in mine

    # Entries imported just now were not in the group a day ago: none is stale yet.
    stale = same(both(targets, "stale", "DNC", "--days", "1"))
    assert stale == "0 entries of group 'DNC' matched by no check in 1 day\n"
    files = [tmp_path / "local.csv", tmp_path / "remote.csv"]
    for options, out in zip(targets, files, strict=True):
        written = CliRunner().invoke(
            main, ["stale", "1", "--days", "1", "--csv", str(out), *options]
        )
        assert written.exit_code == 0, written.output
        assert written.stderr == stale
    assert files[0].read_bytes() == files[1].read_bytes()
    assert files[0].read_text() == "number,kind,status,expires_at,note,created_at,last_matched_on\n"

    # Refusals, said the same on both.
    for args, message in (
        (["--group", "nope"], "no group named 'nope'"),
        (["--campaign", "nope"], "no campaign named 'nope'"),
        (["--from", "2026-06-02", "--to", "2026-06-01"], "invalid range: --to: must be after from"),
        (
            ["--bucket", "minute", "--from", "2026-05-01", "--to", "2026-06-01"],
            "invalid range: --from: the range holds more than 5,000 minutes",
        ),
    ):
        assert message in same(both(targets, "stats", *args), code=1)
    assert "no group named 'nope'" in same(both(targets, "stale", "nope"), code=1)
