import { ApiError, call, explain } from "../api.js";
import { field, fill, h, loadingRow, pagedListing, setFieldError } from "../dom.js";
import { focusOn } from "../focus.js";
import { ACTIONS, count, dayStart, instantToSecond, SURFACES } from "../format.js";

const PAGE_SIZE = 50;
const GROUP_PAGES = 10; // of 1,000 groups each, for the filter's list and the names shown
const PREVIEW = 3; // numbers of an event shown before "and N more"

const DATE = /^\d{4}-\d{2}-\d{2}$/;
// What a change of a group's field reads as, before and after.
const FIELDS = { name: "Name", description: "Description", direction: "Direction", kind: "Kind", scope: "Scope", consent_overrides: "Consent overrides" };

// Set by Show, for the view it leads to: focus goes to what it lists once that has come.
let showing = false;

function shown(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  return value === "" ? "(none)" : `“${value}”`;
}

/** The audit log, newest first, filtered by group, number and days. */
export function renderHistory(main, { groupId: askedGroup = "", number = "", from: askedFrom = "", to: askedTo = "", go }) {
  const from = DATE.test(askedFrom) ? askedFrom : "";
  const to = DATE.test(askedTo) ? askedTo : "";
  const groupId = /^\d+$/.test(askedGroup) ? askedGroup : ""; // the address may be edited by hand
  const group = field({ label: "Group" }, h("select", { name: "group_id" }, h("option", { value: "" }, "All groups")));
  const numberField = field({ label: "Number", hint: "Any common form." }, h("input", { name: "number", type: "tel", autocomplete: "off", spellcheck: "false" }));
  numberField.control.value = number;
  const fromField = field({ label: "From", hint: "The first day shown." }, h("input", { name: "from", type: "date", value: from }));
  const toField = field({ label: "To", hint: "The last day shown." }, h("input", { name: "to", type: "date", value: to }));
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const apply = h("button", { type: "submit", className: "primary" }, "Show");
  const form = h("form", { className: "card filters-form", novalidate: true, "aria-label": "Filter the history" }, h("div", { className: "row" }, group.wrapper, numberField.wrapper, fromField.wrapper, toField.wrapper), apply);
  const body = h("tbody", {}, loadingRow(5));
  const table = h(
    "table",
    { className: "list" },
    h("caption", { className: "visually-hidden" }, "Changes, newest first"),
    h("thead", {}, h("tr", {}, ["When", "Change", "Group", "Numbers", "By"].map((title) => h("th", { scope: "col" }, title)))),
    body,
  );
  const pages = pagedListing({
    label: "Pages of history",
    pageSize: PAGE_SIZE,
    table,
    problem,
    fetchPage: (cursor) => {
      problem.hidden = true;
      setFieldError(numberField, "");
      const since = from ? dayStart(from) : "";
      const until = to ? dayStart(to, 1) : ""; // the whole of the last day
      return call("GET", "/v1/audit", { query: { group_id: groupId, number, since, until, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) => {
      learnNames(answer.data);
      fill(body, answer.data.length ? answer.data.map(row) : h("tr", {}, h("td", { colspan: "5", className: "empty" }, "No changes match.")));
    },
    showError: (error) => {
      if (error instanceof ApiError && error.fieldErrors.number) {
        setFieldError(numberField, "Not a valid phone number.");
      } else {
        problem.textContent = explain(error);
        problem.hidden = false;
      }
      fill(body);
    },
  });
  fill(main, h("h1", { tabindex: "-1" }, "History"), form, problem, h("div", { className: "table-wrap" }, table), pages.element);

  const names = new Map();
  let namesLoaded = false;
  async function loadGroups() {
    let cursor = null;
    for (let page = 0; page < GROUP_PAGES; page += 1) {
      const answer = await call("GET", "/v1/groups", { query: { limit: 1000, cursor } });
      for (const item of answer.data) names.set(item.id, item.name);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
    const sorted = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
    fill(group.control, h("option", { value: "" }, "All groups"), sorted.map(([id, name]) => h("option", { value: String(id) }, name)));
    if (groupId && !names.has(Number(groupId))) {
      group.control.append(h("option", { value: groupId }, `Group #${groupId} (deleted)`));
    }
    group.control.value = groupId;
    namesLoaded = true;
  }

  function groupCell(event) {
    if (event.group_id === null) return "";
    const name = names.get(event.group_id);
    if (name) return h("a", { href: `#/groups/${event.group_id}` }, name);
    // Until the groups have come, only its own deletion says a group is gone.
    if (!namesLoaded) {
      return event.action === "delete" && event.detail?.name ? `${event.detail.name} (deleted)` : `Group #${event.group_id}`;
    }
    // Gone: its delete (or a rename) recorded its name, on this page or a newer one.
    const recorded = event.detail?.name || event.detail?.previous_name || namesOfDeleted.get(event.group_id);
    return recorded ? `${recorded} (deleted)` : `Group #${event.group_id} (deleted)`;
  }

  const namesOfDeleted = new Map();
  function learnNames(events) {
    for (const event of events) {
      const name = event.detail?.name;
      if (event.group_id !== null && name && !namesOfDeleted.has(event.group_id)) namesOfDeleted.set(event.group_id, name);
    }
    // The filter's list too, where it holds a deleted group by number only.
    for (const option of group.control.options) {
      const known = namesOfDeleted.get(Number(option.value));
      if (known && !names.has(Number(option.value))) option.textContent = `${known} (deleted)`;
    }
  }

  function change(event) {
    const previous = event.detail?.previous_name;
    const renamedTo = event.detail?.name;
    const label = ACTIONS[event.action] || event.action;
    if (event.action.startsWith("campaign-")) {
      const campaignName = event.detail?.campaign_name;
      const named = previous ? `“${previous}” → “${campaignName}”` : campaignName ? `“${campaignName}”` : null;
      return [label, named ? h("span", { className: "sub" }, named) : null];
    }
    const before = event.detail?.previous;
    if (event.action === "update" && before) {
      const changes = Object.keys(before).map((name) => h("span", { className: "sub" }, `${FIELDS[name] || name}: ${shown(before[name])} → ${shown(event.detail[name])}`));
      return [label, ...changes];
    }
    const detail =
      event.action === "rename" && previous
        ? `“${previous}” → “${renamedTo || names.get(event.group_id) || "?"}”`
        : event.count
          ? `${count(event.count)} ${event.count === 1 ? "entry" : "entries"}`
          : null;
    return [label, detail ? h("span", { className: "sub" }, detail) : null];
  }

  function numbersCell(event) {
    if (!event.numbers.length) return "";
    const first = event.numbers.slice(0, PREVIEW);
    const beyond = event.count - first.length;
    const preview = [h("code", {}, first.join(", ")), beyond > 0 ? ` and ${count(beyond)} more` : ""];
    if (event.numbers.length <= PREVIEW) return preview;
    // The event keeps up to 100 of the numbers: behind a toggle, so a page stays short.
    const rest = event.count > event.numbers.length ? ` (the first ${event.numbers.length} of ${count(event.count)})` : "";
    return h("details", {}, h("summary", {}, preview), h("code", {}, event.numbers.join(", ")), rest);
  }

  function row(event) {
    return h(
      "tr",
      {},
      h("td", { "data-label": "When" }, h("time", { datetime: event.at }, instantToSecond(event.at))),
      h("th", { scope: "row", "data-label": "Change" }, change(event)),
      h("td", { "data-label": "Group" }, groupCell(event)),
      h("td", { "data-label": "Numbers", className: "numbers" }, numbersCell(event)),
      h("td", { "data-label": "By" }, SURFACES[event.surface] || event.surface, event.key_id ? h("span", { className: "sub" }, event.key_label || `key #${event.key_id}`) : null),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (group.control.value) query.set("group", group.control.value);
    if (numberField.control.value.trim()) query.set("number", numberField.control.value.trim());
    if (fromField.control.value) query.set("from", fromField.control.value);
    if (toField.control.value) query.set("to", toField.control.value);
    setFieldError(toField, "");
    if (fromField.control.value && toField.control.value && toField.control.value < fromField.control.value) {
      setFieldError(toField, "To is before From.");
      toField.control.focus();
      return;
    }
    showing = true;
    go(`#/history${query.size ? `?${query}` : ""}`);
  });

  // The names come with the groups; the history need not wait for them to show.
  const listed = loadGroups().catch((error) => {
    problem.textContent = explain(error);
    problem.hidden = false;
  });
  const afterShow = showing;
  showing = false;
  pages.restart().then(async () => {
    // After Show: what it found, or why nothing.
    if (afterShow && numberField.control.getAttribute("aria-invalid")) numberField.control.focus();
    else if (afterShow) focusOn(problem.hidden ? table : problem);
    await listed;
    pages.redraw(); // now with the groups' names
  });
}
