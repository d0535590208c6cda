"""Every limit a request must keep, and the words that state it: written here once.

The domain validates by these numbers; the `/v1` schemas, the compat messages, the CLI's help
and the admin page (through ``GET /v1/limits``) state them from here. This module imports
nothing: any layer may read it.
"""

from __future__ import annotations

from typing import Final

# --- a group ---------------------------------------------------------------------------------

NAME_MIN: Final = 2
NAME_MAX: Final = 50
# Counted after trimming the ends' spaces; unique per account, ignoring case.
NAME_CHARACTERS: Final = (
    "letters and marks of any script, digits, space, _ - . ; starting with a letter or digit"
)
NAME_RULE: Final = f"{NAME_MIN} to {NAME_MAX} characters: {NAME_CHARACTERS}"

# A description is optional on `/v1` and the CLI (0 characters allowed); the compat create
# requires one of at least DESCRIPTION_MIN, as Cloud Agent does.
DESCRIPTION_MIN: Final = 2
DESCRIPTION_MAX: Final = 50
DESCRIPTION_RULE: Final = f"up to {DESCRIPTION_MAX} characters, without NUL"

# --- an entry --------------------------------------------------------------------------------

NOTE_MAX: Final = 500
NOTE_RULE: Final = f"up to {NOTE_MAX} characters, without NUL"

# --- an import -------------------------------------------------------------------------------

# Characters of the file name an import records as its group's source (`?file_name=`).
FILE_NAME_MAX: Final = 255
FILE_NAME_RULE: Final = f"1 to {FILE_NAME_MAX} characters, without NUL"

# --- an API key ------------------------------------------------------------------------------

# A key's label: who or what holds it ("Dialer, floor 2"), as the history names it.
KEY_LABEL_MAX: Final = 64
KEY_LABEL_RULE: Final = f"up to {KEY_LABEL_MAX} characters, without control characters"
SCOPES_RULE: Final = "one or more of check, read, write, admin"

# --- a request -------------------------------------------------------------------------------

# Numbers one `/v1` request may add or remove (the admin page sends more in batches of this).
NUMBERS_PER_CHANGE: Final = 10_000
# Numbers one `/v1` batch check may ask about.
NUMBERS_PER_CHECK: Final = 100_000
# Numbers one compat request may add or remove, as Cloud Agent allows.
COMPAT_NUMBERS_PER_REQUEST: Final = 100
# Groups one request may attach to (or detach from) a campaign.
GROUPS_PER_CAMPAIGN: Final = 1000
# Items of one page of a listing.
PAGE_MAX: Final = 1000
# Characters of a number as text in a path or a query (`/v1/check/{number}`, `?number=`).
NUMBER_TEXT_MAX: Final = 64
# Characters of a cursor (`?cursor=`, as the server hands them out).
CURSOR_MAX: Final = 64
# Characters of a change feed token (`GET /v1/changes?since=`; the server's are 44 today).
CHANGE_TOKEN_MAX: Final = 100
# Entries (upserted and removed, over all its changes) one answer of the change feed holds:
# a bigger change is split over several answers. One `/v1` add or remove fits in one.
CHANGE_FEED_ENTRIES: Final = NUMBERS_PER_CHANGE
# Characters of a filter: on group names (`?name=`), on an entry's text (`?q=`).
GROUP_FILTER_MAX: Final = 100
ENTRY_FILTER_MAX: Final = 32
# Characters of a column's name or position in a file (`?column=`, `?expiry_column=`).
COLUMN_MAX: Final = 100
# The largest 1-based column position an import or a scrub may name (`column=3`).
COLUMN_POSITION_MAX: Final = 10_000
# Invalid lines a refused import names in its answer (the count in its detail is of all).
INVALID_LINES_SHOWN: Final = 10_000

# --- insights --------------------------------------------------------------------------------

# The most days a stale-entries listing looks back (match days are kept 800 by default).
STALE_DAYS_MAX: Final = 3650

# --- an account ------------------------------------------------------------------------------

USERNAME_MAX: Final = 64

# --- ids -------------------------------------------------------------------------------------

# The largest id of anything stored (a group, an audit event): a signed 64-bit integer, the
# widest both engines store. A larger id names nothing, and is refused before any query.
LARGEST_ID: Final = 2**63 - 1
