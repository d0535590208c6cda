// How values read on the page: instants in the browser's time zone, counts with separators.

const instantFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** An RFC 3339 instant from the API, in the reader's time zone; "Never" for none. */
export function instant(text, none = "Never") {
  if (!text) return none;
  return instantFormat.format(new Date(text));
}

export function count(value) {
  return Number(value).toLocaleString();
}

export function plural(value, one, many) {
  return `${count(value)} ${value === 1 ? one : many}`;
}

export const DIRECTIONS = {
  both: "Inbound and outbound",
  inbound: "Inbound only",
  outbound: "Outbound only",
};

/**
 * The numbers in what a person pasted: one per line, or separated by commas, semicolons or
 * tabs. Spaces are kept, as numbers are often written with them ("+91 98765 43210").
 */
export function splitNumbers(text) {
  return text
    .split(/[\n\r,;\t]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

/**
 * The value of a datetime-local input (the reader's wall-clock time) as an RFC 3339 instant,
 * or null when empty. Throws on a value the browser could not read.
 */
export function localToInstant(value) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError("not a date and time");
  return date.toISOString();
}

/** Now as a datetime-local value: the earliest expiry the input should offer. */
export function localNow() {
  const now = new Date();
  now.setSeconds(0, 0);
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export const ACTIONS = {
  create: "Created the group",
  add: "Added",
  "expire-refresh": "Renewed expiry",
  import: "Imported",
  settings: "Changed the account's settings",
  remove: "Removed",
  rename: "Renamed",
  update: "Changed the group",
  delete: "Deleted the group",
};

export const SURFACES = {
  v1: "API",
  "compat-v2": "Cloud Agent API",
  "compat-ca-apis": "Cloud Agent API",
  cli: "Command line",
};

export const RULES = {
  number: "Number",
  prefix: "Prefix",
  block_anonymous: "Withheld caller ID",
};
