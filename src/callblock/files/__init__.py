"""File formats: reading number lists and calling lists, import planning, export and scrub rows.

Shared by the CLI and the HTTP routes (each adds only its own input and output).
"""

from callblock.files.plan import ImportLines, ImportPlan, plan_import
from callblock.files.reading import (
    ERRORS,
    EXPORT_HEADER,
    SCRUB_CHUNK,
    FileProblem,
    FileTooLarge,
    Layout,
    Row,
    Scrubbed,
    check_readable,
    export_row,
    import_lines,
    layout,
    scrub_chunks,
    scrub_input,
    text_stream,
    value_rows,
)

__all__ = [
    "ERRORS",
    "EXPORT_HEADER",
    "SCRUB_CHUNK",
    "FileProblem",
    "FileTooLarge",
    "ImportLines",
    "ImportPlan",
    "Layout",
    "Row",
    "Scrubbed",
    "check_readable",
    "export_row",
    "import_lines",
    "layout",
    "plan_import",
    "scrub_chunks",
    "scrub_input",
    "text_stream",
    "value_rows",
]
