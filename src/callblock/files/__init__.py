"""File formats: reading number lists and calling lists, import planning, export and scrub rows.

Shared by the CLI and the HTTP routes (each adds only its own input and output). This layer
sits below the service: it imports neither ``callblock.service`` nor the store.

- ``reading``: text streams (gzip, zip, size limits, bytes that are not UTF-8) and CSV rows
- ``layout``: header and column detection
- ``number_lists``: a number list's lines as columns, for an import, in its line format
- ``plan``: an import's lines checked and reduced to distinct keys, before any write
- ``export``: the export file, a block of entries at a time
- ``scrub``: a calling list checked in chunks
"""

from callblock.files.export import EXPORT_HEADER, STALE_HEADER, CsvExport, stale_row
from callblock.files.layout import Layout, layout
from callblock.files.number_lists import LineFormat, format_conflict, import_lines
from callblock.files.plan import ImportLines, ImportPlan, plan_import
from callblock.files.reading import (
    ERRORS,
    FileProblem,
    FileTooLarge,
    Row,
    check_readable,
    text_stream,
    unpacked,
    value_rows,
)
from callblock.files.scrub import (
    SCRUB_CHUNK,
    SCRUB_COLUMNS,
    BatchChecker,
    Scrubbed,
    Status,
    scrub_chunks,
    scrub_input,
)

__all__ = [
    "ERRORS",
    "EXPORT_HEADER",
    "SCRUB_CHUNK",
    "SCRUB_COLUMNS",
    "STALE_HEADER",
    "BatchChecker",
    "CsvExport",
    "FileProblem",
    "FileTooLarge",
    "ImportLines",
    "ImportPlan",
    "Layout",
    "LineFormat",
    "Row",
    "Scrubbed",
    "Status",
    "check_readable",
    "format_conflict",
    "import_lines",
    "layout",
    "plan_import",
    "scrub_chunks",
    "scrub_input",
    "stale_row",
    "text_stream",
    "unpacked",
    "value_rows",
]
