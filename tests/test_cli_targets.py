"""The commands that take a target say the same on the local database (`--account`) as on a
real server (`--url --api-key`): each is written once, against `cli.operations.Operations`."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callblock.cli import main
from tests.servers import Server, callblock, start_server, stop_server


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], list[str]]]:
    """The options naming each target: the same account, alone on its own database, once
    used locally and once through a server."""
    folder = tmp_path_factory.mktemp("targets")
    local_url = f"sqlite:///{folder / 'local.db'}"
    served_url = f"sqlite:///{folder / 'served.db'}"
    callblock("account", "create", "acme", database_url=local_url)
    out = callblock("account", "create", "acme", database_url=served_url).stdout
    key = out.strip().splitlines()[-1]
    server: Server = start_server(served_url)
    try:
        yield (
            ["--account", "acme", "--database-url", local_url],
            ["--url", server.url, "--api-key", key],
        )
    finally:
        stop_server(server)


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
    assert re.search(r"inbound\s+2\s+0\s+Spam callers", listed[1].stdout)

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
    assert "4 rows: 1 callable, 3 blocked or invalid" in outputs[1][0]

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
