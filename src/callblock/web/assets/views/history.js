import { ApiError, call, explain } from "../api.js";
import { field, fill, h, pagedListing, setFieldError } from "../dom.js";
import { ACTIONS, count, instant, SURFACES } from "../format.js";

const PAGE_SIZE = 50;
const GROUP_PAGES = 10; // of 1,000 groups each, for the filter's list and the names shown

/** The audit log, newest first, filtered by group and number. */
export function renderHistory(main, { groupId = "", number = "", go }) {
  const group = field({ label: "Group" }, h("select", { name: "group_id" }, h("option", { value: "" }, "All groups")));
  const numberField = field({ label: "Number", hint: "Any common form." }, h("input", { name: "number", type: "tel", autocomplete: "off", spellcheck: "false" }));
  numberField.control.value = number;
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const apply = h("button", { type: "submit", className: "primary" }, "Show");
  const form = h("form", { className: "card filters-form", novalidate: true, "aria-label": "Filter the history" }, h("div", { className: "row" }, group.wrapper, numberField.wrapper), apply);
  const body = h("tbody");
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
    fetchPage: (cursor) => {
      problem.hidden = true;
      setFieldError(numberField, "");
      return call("GET", "/v1/audit", { query: { group_id: groupId, number, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) => fill(body, answer.data.length ? answer.data.map(row) : h("tr", {}, h("td", { colspan: "5", className: "empty" }, "No changes match."))),
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
  }

  function groupCell(event) {
    if (event.group_id === null) return "";
    const name = names.get(event.group_id);
    const previous = event.detail?.previous_name;
    if (!name) return `#${event.group_id}${previous ? ` (${previous})` : ""} (deleted)`;
    return [h("a", { href: `#/groups/${event.group_id}` }, name), previous ? h("span", { className: "sub" }, `was “${previous}”`) : null];
  }

  function row(event) {
    const shown = event.numbers.join(", ");
    const more = event.count > event.numbers.length ? ` and ${count(event.count - event.numbers.length)} more` : "";
    return h(
      "tr",
      {},
      h("td", { "data-label": "When" }, instant(event.at)),
      h("th", { scope: "row", "data-label": "Change" }, ACTIONS[event.action] || event.action, event.count ? h("span", { className: "sub" }, `${count(event.count)} ${event.count === 1 ? "entry" : "entries"}`) : null),
      h("td", { "data-label": "Group" }, groupCell(event)),
      h("td", { "data-label": "Numbers", className: "numbers" }, shown ? h("code", {}, shown) : "", more),
      h("td", { "data-label": "By" }, SURFACES[event.surface] || event.surface, event.key_id ? h("span", { className: "sub" }, `key #${event.key_id}`) : null),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (group.control.value) query.set("group", group.control.value);
    if (numberField.control.value.trim()) query.set("number", numberField.control.value.trim());
    go(`#/history${query.size ? `?${query}` : ""}`);
  });

  loadGroups()
    .catch((error) => {
      problem.textContent = explain(error);
      problem.hidden = false;
    })
    .then(pages.restart);
}
