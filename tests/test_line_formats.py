"""Registry line formats (`format`: plain, area-code-pair, tps) and zips of many files read
whole: each format read as documented, detected only beyond doubt, on every surface."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from callblock import files
from callblock.cli import main
from callblock.files.plan import ImportPlan, plan_import
from callblock.http.app import create_app
from callblock.numbers import key_pattern
from callblock.service import Service
from callblock.settings import Settings
from callblock.store import Store
from tests.helpers import Credentials, bearer, new_group, problem, snapshot
from tests.test_bulk import group_numbers
from tests.test_cli_targets import Targets, both, two_targets

Format = files.LineFormat
# Three per-area-code files, as the Canadian registry gives them (the US one likewise), one
# of them without a line end at its end; listed out of name order in the zip.
AREA_CODE_FILES = {
    "905.txt": "905,2345678\n905,3456789",
    "416.txt": "416,2345678\n416,9876543\n",
    "613.txt": "613,5550123\r\n",
}
AREA_CODE_NUMBERS = {
    "+14162345678",
    "+14169876543",
    "+16135550123",
    "+19052345678",
    "+19053456789",
}


def zipped(members: dict[str, str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", method) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return packed.getvalue()


def read(
    content: str | bytes, line_format: Format = Format.AUTO, region: str = "IN"
) -> tuple[list[files.ImportLines], list[files.Layout], ImportPlan]:
    """A file's lines as an import reads them, its layout, and its plan."""
    raw = content.encode() if isinstance(content, str) else content
    found: list[files.Layout] = []
    text = files.text_stream(io.BytesIO(raw), 1_000_000)
    blocks = list(
        files.import_lines(
            text, region, None, None, on_layout=found.append, line_format=line_format
        )
    )
    return blocks, found, plan_import(blocks, region, "UTC", datetime.now(UTC))


def numbers_of(blocks: list[files.ImportLines]) -> list[str]:
    return [n for b in blocks for n in b.numbers]


def e164(plan: ImportPlan) -> set[str]:
    return {key_pattern(int(key)) for key in plan.keys}


@pytest.fixture
def acme(service: Service, database_url: str) -> str:
    service.create_account("acme")
    return database_url


# --- each format ---------------------------------------------------------------------------


@given(
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True), st.from_regex(r"[2-9][0-9]{6}", fullmatch=True)
)
def test_an_area_code_pair_is_the_number_under_plus_one(area: str, number: str) -> None:
    blocks, _, _ = read(f"{area},{number}\n{area}{number}\n", Format.AREA_CODE_PAIR)
    assert numbers_of(blocks) == [f"+1{area}{number}"] * 2


def test_area_code_pairs_are_north_american_whatever_the_account_region() -> None:
    _, found, plan = read("416,2345678\n416,23456\n4162345679\nx,y,z\n", region="GB")
    assert found[0].header is None
    assert e164(plan) == {"+14162345678", "+14162345679"}
    # A row that is not an area code and a number is an invalid line, shown as it is.
    assert [(r.line, r.input) for r in plan.invalid] == [(2, "416,23456"), (4, "x,y,z")]


def test_an_area_code_pair_file_may_have_a_header() -> None:
    blocks, found, plan = read("area_code,number\n212,5550123\n", Format.AREA_CODE_PAIR)
    assert found[0].header == ["area_code", "number"]
    assert [list(b.lines) for b in blocks] == [[2]]
    assert e164(plan) == {"+12125550123"}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("01635 506160", "+441635506160"),  # dialling code of 5, then the rest
        ("0207 3787244", "+442073787244"),  # of 4, the rest right-justified
        ("0191 5657153", "+441915657153"),
        ("07860 338653", "+447860338653"),  # a mobile
        ("02073787244 ", "+442073787244"),  # without spaces: padded at the end
        ("02073787244", "+442073787244"),  # the padding trimmed by an editor
    ],
)
def test_a_tps_record_is_a_uk_number_whatever_the_account_region(
    record: str, expected: str
) -> None:
    blocks, _, plan = read(f"{record}\r\n", Format.TPS, region="IN")
    assert numbers_of(blocks) == [expected]
    assert e164(plan) == {expected}


@pytest.mark.parametrize(
    "record", ["1635 506160", "01635 5061600", "0163X 506160", "+441635506160"]
)
def test_a_record_that_is_not_tps_is_an_invalid_line(record: str) -> None:
    _, _, plan = read(f"01635 506160\n{record}\n", Format.TPS, region="GB")
    assert [(r.line, r.input) for r in plan.invalid] == [(2, record)]


def test_a_plain_line_is_one_number_commas_and_all() -> None:
    blocks, found, plan = read("phone\n98765 43210\n9123456780,x\n\n", Format.PLAIN)
    assert found[0].header == ["phone"]
    assert numbers_of(blocks) == ["98765 43210", "9123456780,x"]
    assert [b.lines for b in blocks] == [[2, 3]]
    assert e164(plan) == {"+919876543210"}
    assert [r.line for r in plan.invalid] == [3]


@pytest.mark.parametrize("line_format", [Format.PLAIN, Format.TPS, Format.AREA_CODE_PAIR])
def test_columns_and_change_lists_are_for_csv(line_format: Format) -> None:
    assert files.format_conflict(line_format, "2", None, ops=False) is not None
    assert files.format_conflict(line_format, None, "expires", ops=False) is not None
    assert files.format_conflict(line_format, None, None, ops=True) is not None
    assert files.format_conflict(line_format, None, None, ops=False) is None
    with pytest.raises(files.FileProblem, match="columns are for CSV"):
        list(files.import_lines(io.StringIO("1\n"), "IN", "1", None, line_format=line_format))


# --- detection -----------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["416,2345678\n905,3456789\n", "areacode,phone\n416,2345678\n"])
def test_area_code_pairs_are_detected_beyond_doubt(content: str) -> None:
    _, _, plan = read(content)
    assert e164(plan) == {"+14162345678"} | ({"+19053456789"} if "905" in content else set())
    assert plan.invalid == []


@pytest.mark.parametrize(
    "content",
    [
        "9876543210\n9123456780\n",  # Indian, plain
        "phone,note\n9876543210,416\n",  # a number and a note
        "9876543210,416\n",
        "123,4567890\n",  # no NANP area code starts with 1
        "416,1234567\n",  # nor a NANP exchange code
        "416, 2345678\n",  # not the registry's own shape
        "416;2345678\n",
        "416,2345678,x\n",  # three cells
        "01635 506160\n",  # tps is never guessed
    ],
)
def test_other_files_keep_their_meaning(content: str) -> None:
    auto, _, _ = read(content)
    assert numbers_of(auto) == numbers_of(read(content, Format.CSV)[0])
    assert not any(n.startswith("+1") for n in numbers_of(auto))


# --- zips ----------------------------------------------------------------------------------


def test_a_zip_is_read_whole_in_name_order_with_running_line_numbers() -> None:
    broken = {**AREA_CODE_FILES, "500.txt": "500,23\n"}
    blocks, _, plan = read(zipped(broken))
    assert e164(plan) == AREA_CODE_NUMBERS
    assert [(r.line, r.input) for r in plan.invalid] == [(3, "500,23")]
    # 416's two lines, 500's one, 613's one, then 905's two: each member a line end apart.
    assert [n for b in blocks for n in b.lines] == [1, 2, 3, 4, 5, 6]


def test_the_header_each_member_repeats_is_read_once() -> None:
    members = {"1.csv": "\ufeffphone\n9876543210\n", "2.csv": "\ufeffphone\r\n9123456780\n"}
    headers: list[files.Row] = []
    text = files.text_stream(io.BytesIO(zipped(members)))
    blocks = list(files.import_lines(text, "IN", None, None, on_header=headers.append))
    assert headers == [files.Row(1, ["phone"])]
    assert [(list(b.lines), b.numbers) for b in blocks] == [([2, 4], ["9876543210", "9123456780"])]


def test_folders_and_mac_resource_forks_of_a_zip_are_not_read() -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("lists/", "")
        archive.writestr("lists/416.txt", "416,2345678\n")
        archive.writestr("__MACOSX/lists/._416.txt", "\x00\x05\x16\x07junk")
    _, _, plan = read(packed.getvalue())
    assert e164(plan) == {"+14162345678"}
    assert plan.invalid == []


def test_a_damaged_zip_is_a_file_problem() -> None:
    whole = zipped(AREA_CODE_FILES, zipfile.ZIP_STORED)
    crc = whole.index(b"905,2345678")  # a member's data: its CRC no longer matches
    for damaged, said in (
        (whole[:100], "the zip file is damaged"),
        (whole[:crc] + bytes([whole[crc] ^ 0xFF]) + whole[crc + 1 :], "the zip file"),
    ):
        with pytest.raises(files.FileProblem, match=said):
            read(damaged)


# --- over HTTP -----------------------------------------------------------------------------


def import_url(group: dict[str, object], **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/v1/groups/{group['id']}/numbers:import" + (f"?{params}" if params else "")


async def exported(client: httpx.AsyncClient, who: Credentials, group_id: object) -> set[str]:
    answer = await client.get(f"/v1/groups/{group_id}/numbers.csv", headers=bearer(who))
    assert answer.status_code == 200, answer.text
    return {row["number"] for row in csv.DictReader(io.StringIO(answer.text))}


@pytest.mark.anyio
async def test_http_imports_a_zip_of_area_code_files_whole(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "DNCL")
    answer = await client.post(
        import_url(group), content=zipped(AREA_CODE_FILES), headers=bearer(main_account)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["added"] == 5
    assert await exported(client, main_account, group["id"]) == AREA_CODE_NUMBERS


@pytest.mark.anyio
async def test_http_reads_the_format_asked(
    client: httpx.AsyncClient, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "TPS")
    body = "01635 506160\r\n02073787244 \r\n"
    answer = await client.post(
        import_url(group, format="tps"), content=body, headers=bearer(main_account)
    )
    assert answer.status_code == 200, answer.text
    assert await exported(client, main_account, group["id"]) == {"+441635506160", "+442073787244"}


@pytest.mark.anyio
async def test_http_refuses_an_unknown_format_and_one_with_columns(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Nope")
    before = snapshot(store)
    for query, said in (
        ({"format": "xml"}, "Input should be"),
        ({"format": "tps", "column": "2"}, "columns are for CSV files"),
        ({"format": "plain", "mode": "changes"}, "a change list is a CSV file"),
    ):
        refused = await client.post(
            import_url(group, **query), content="01635 506160\n", headers=bearer(main_account)
        )
        assert said in problem(refused, 422)["errors"]["format"]
    assert snapshot(store) == before


@pytest.mark.anyio
async def test_http_refuses_a_damaged_zip_with_400(
    client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    group = await new_group(client, main_account, "Broken")
    before = snapshot(store)
    refused = await client.post(
        import_url(group), content=zipped(AREA_CODE_FILES)[:120], headers=bearer(main_account)
    )
    assert "the zip file is damaged" in problem(refused, 400)["detail"]
    assert snapshot(store) == before


@pytest.fixture
def small_limit_client(service: Service, database_url: str) -> httpx.AsyncClient:
    app = create_app(Settings(database_url=database_url, max_import_bytes=100_000), service=service)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cb.test")


@pytest.mark.anyio
async def test_a_zip_that_unpacks_past_the_limit_is_refused_with_413(
    small_limit_client: httpx.AsyncClient, store: Store, main_account: Credentials
) -> None:
    bomb = zipped({f"{n}.txt": "416,2345678\n" * 100_000 for n in range(3)})  # 3.6 MB
    assert len(bomb) < 100_000
    async with small_limit_client as client:
        group = await new_group(client, main_account, "Bomb")
        before = snapshot(store)
        for url in (import_url(group), "/v1/scrub"):
            refused = await client.post(url, content=bomb, headers=bearer(main_account))
            assert "unpacked" in problem(refused, 413)["detail"]
        assert snapshot(store) == before


# --- the CLI -------------------------------------------------------------------------------


def test_cli_imports_a_zip_of_area_code_files_whole(acme: str, tmp_path: Path) -> None:
    registry = tmp_path / "dncl.zip"
    registry.write_bytes(zipped(AREA_CODE_FILES))
    args = ["import", str(registry), "--group", "DNCL", "--account", "acme"]
    result = CliRunner().invoke(main, [*args, "--database-url", acme])
    assert result.exit_code == 0, result.output
    assert "5 added" in result.stdout
    assert set(group_numbers(acme, "DNCL")) == AREA_CODE_NUMBERS


def test_cli_format_with_a_column_is_a_usage_error(acme: str, tmp_path: Path) -> None:
    file = tmp_path / "tps.txt"
    file.write_text("01635 506160\n")
    args = ["import", str(file), "--group", "T", "--format", "tps", "--column", "1"]
    result = CliRunner().invoke(main, [*args, "--account", "acme", "--database-url", acme])
    assert result.exit_code == 2
    assert "--format tps: columns are for CSV files" in result.stderr


@pytest.fixture
def fresh_targets(tmp_path: Path) -> Iterator[Targets]:
    with two_targets(tmp_path) as targets:
        yield targets


@pytest.mark.server
def test_registry_files_import_the_same_on_both_targets(
    fresh_targets: Targets, tmp_path: Path
) -> None:
    registry = tmp_path / "dncl.zip"
    registry.write_bytes(zipped(AREA_CODE_FILES))
    tps = tmp_path / "tps.txt"
    tps.write_text("01635 506160\r\n0207 3787244\r\n")
    tps_numbers = {"+441635506160", "+442073787244"}
    # The account's region is India: only the format sent makes the TPS lines UK numbers.
    for file, extra, expected in (
        (registry, [], AREA_CODE_NUMBERS),
        (tps, ["--format", "tps"], tps_numbers),
    ):
        imported = both(fresh_targets, "import", str(file), "--group", file.name, *extra)
        assert imported[0].exit_code == imported[1].exit_code == 0, imported[1].output
        exported = both(fresh_targets, "export", "--group", file.name)
        numbers = [{r[0] for r in csv.reader(e.stdout.splitlines()[1:])} for e in exported]
        assert numbers[0] == numbers[1] == expected
