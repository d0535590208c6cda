// How values read on the page: instants in the browser's time zone, counts with separators.

const instantFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const secondsFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** An instant to the second (the history: several changes may share a minute). */
export function instantToSecond(text) {
  return secondsFormat.format(new Date(text));
}

/** The instant a date (YYYY-MM-DD) starts in the reader's time zone, as RFC 3339. */
export function dayStart(date, plusDays = 0) {
  const [year, month, day] = date.split("-").map(Number);
  return new Date(year, month - 1, day + plusDays).toISOString();
}

/** A time zone's name as this browser's Intl reads it: one name for each zone's aliases. */
function canonicalZone(zone) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null; // a name Intl does not know
  }
}

/**
 * The reader's time zone, named as the account names it when they are the same zone (the
 * browser may say Asia/Calcutta where the account says Asia/Kolkata), else as the browser
 * names it.
 */
export function readerZoneName(accountZone = "") {
  const reader = canonicalZone(timeZone);
  return accountZone && reader !== null && canonicalZone(accountZone) === reader ? accountZone : timeZone;
}

/** An RFC 3339 instant from the API, in the reader's time zone; "Never" for none. */
export function instant(text, none = "Never") {
  if (!text) return none;
  return instantFormat.format(new Date(text));
}

export function count(value) {
  return Number(value).toLocaleString();
}

/**
 * Where a range of `points` buckets of `seconds` each starts, the current bucket its last
 * (as GET /v1/stats counts them: from the epoch, so a day is a UTC day), as RFC 3339.
 */
export function rangeStart(seconds, points, now = Date.now()) {
  const current = Math.floor(now / 1000 / seconds) * seconds;
  return new Date((current - (points - 1) * seconds) * 1000).toISOString();
}

/** A share from 0 to 1 as a percentage: 0.2 → "20%", 1/3 → "33.3%". */
export function percent(share) {
  return `${(Number(share) * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;
}

// A registry's data may be used for 31 days (the US rule); warned of from 28.
export const STALE_AFTER_DAYS = 28;

/**
 * When a group was last refreshed from a file, in words ("today", "3 days ago"), and
 * whether it is old enough to renew; null for a group no file was ever imported into.
 */
export function refreshed(group, now = Date.now()) {
  if (!group.refreshed_at) return null;
  const days = Math.floor((now - new Date(group.refreshed_at).getTime()) / 86_400_000);
  const when = days <= 0 ? "today" : days === 1 ? "yesterday" : `${count(days)} days ago`;
  return { when, days, stale: days >= STALE_AFTER_DAYS, from: group.refreshed_from };
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

/** An RFC 3339 instant as a datetime-local value (the reader's wall-clock time); "" for none. */
export function instantToLocal(text) {
  if (!text) return "";
  const date = new Date(text);
  date.setSeconds(0, 0);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
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
  purge: "Removed the expired entries",
  rename: "Renamed",
  update: "Changed the group",
  delete: "Deleted the group",
  "campaign-create": "Created the campaign",
  "campaign-update": "Changed the campaign",
  "campaign-attach": "Attached groups to the campaign",
  "campaign-detach": "Detached groups from the campaign",
  "campaign-delete": "Deleted the campaign",
  replace: "Replaced the group's entries",
  "change-list": "Applied a change list",
  "key-issue": "Issued an API key",
  "key-revoke": "Revoked an API key",
};

export const SURFACES = {
  v1: "API",
  "compat-v2": "Cloud Agent API",
  "compat-ca-apis": "Cloud Agent API",
  cli: "Command line",
  page: "Admin page",
};

export const RULES = {
  number: "Number",
  prefix: "Prefix",
  block_anonymous: "Withheld caller ID",
};

export const KINDS = {
  block: "Block",
  allow: "Allow",
};

export const SCOPES = {
  global: "Global",
  attached: "Attached only",
};

/** A group's kind, scope and consent override in a few words: "Block · Global · Consent overrides". */
export function groupTraits(group) {
  const traits = [KINDS[group.kind] || group.kind, SCOPES[group.scope] || group.scope];
  if (group.consent_overrides) traits.push("Consent overrides");
  return traits;
}

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const DAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

/**
 * A calling window as the server describes one (calling_hours.describe): "Mon–Sat
 * 09:00–21:00", "Sat–Mon 10:00–14:00", "Every day 21:00–02:00"; "Any time" for none.
 */
export function describeWindow(window) {
  if (!window) return "Any time";
  const chosen = new Set(window.days.map((day) => DAYS.indexOf(day)));
  let days;
  if (chosen.size === 7) {
    days = "Every day";
  } else {
    const runs = [];
    for (let first = 0; first < 7; first += 1) {
      // each run of consecutive days (Sat–Mon wraps), named from its first day
      if (!chosen.has(first) || chosen.has((first + 6) % 7)) continue;
      let last = first;
      while (chosen.has((last + 1) % 7)) last = (last + 1) % 7;
      const name = DAY_NAMES[DAYS[first]];
      runs.push(last === first ? name : `${name}–${DAY_NAMES[DAYS[last]]}`);
    }
    days = runs.join(", ");
  }
  const overnight = window.end !== "24:00" && window.end < window.start ? " (into the next day)" : "";
  return `${days} ${window.start}–${window.end}${overnight}`;
}

/** An instant in a named time zone, with the zone's name: "2 Jun 2026, 09:00 (Asia/Kolkata)". */
export function instantIn(text, zone) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: zone });
  return `${format.format(new Date(text))} (${zone})`;
}

/** The time of day now in a time zone, as HH:MM. */
export function timeNowIn(zone) {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }).format(new Date());
}
