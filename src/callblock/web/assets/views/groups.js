import { call, explain } from "../api.js";
import { announce, fill, GROUPS_CHANGED, h, loadingRow, pagedListing } from "../dom.js";
import { focusOn } from "../focus.js";
import { count, DIRECTIONS, instant, KINDS, rangeStart, refreshed, SCOPES } from "../format.js";
import { createGroup, deleteGroup, editGroup } from "./group_forms.js";

const PAGE_SIZE = 50;
const COLUMNS = ["Name", "Kind and scope", "Direction", "Active", "Expired", "Matched (24 h)", "Last change", "Actions"];

/** The list of groups; creating, changing and deleting them. */
export function renderGroups(main, { go }) {
  const newGroup = h("button", { type: "button", className: "primary" }, "New group");
  const search = h("input", { type: "search", id: "group-search", name: "name", autocomplete: "off" });
  const body = h("tbody", {}, loadingRow(COLUMNS.length));
  const table = h(
    "table",
    { className: "list" },
    h("caption", { className: "visually-hidden" }, "Your groups"),
    h("thead", {}, h("tr", {}, COLUMNS.map((title) => h("th", { scope: "col" }, title)))),
    body,
  );
  const listProblem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  let nameFilter = "";
  const pages = pagedListing({
    label: "Pages of groups",
    pageSize: PAGE_SIZE,
    table,
    problem: listProblem,
    fetchPage: (cursor) => {
      listProblem.hidden = true;
      return call("GET", "/v1/groups", { query: { name: nameFilter, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) =>
      fill(
        body,
        answer.data.length
          ? answer.data.map(row)
          : h("tr", {}, h("td", { colspan: String(COLUMNS.length), className: "empty" }, nameFilter ? "No group has that in its name." : "No groups yet: create one with New group.")),
      ),
    showError: (error) => {
      listProblem.textContent = explain(error);
      listProblem.hidden = false;
    },
  });

  fill(
    main,
    h("div", { className: "title-row" }, h("h1", { tabindex: "-1" }, "Groups"), newGroup),
    h(
      "section",
      { "aria-label": "Your groups" },
      h("div", { className: "filters" }, h("div", { className: "field" }, h("label", { for: "group-search" }, "Find a group by name"), search)),
      listProblem,
      h("div", { className: "table-wrap" }, table),
      pages.element,
    ),
  );

  function row(group) {
    const link = h("a", { href: `#/groups/${group.id}` }, group.name);
    const edit = h("button", { type: "button", "aria-label": `Change ${group.name}`, "data-change": String(group.id) }, "Change");
    const remove = h("button", { type: "button", className: "danger", "aria-label": `Delete ${group.name}` }, "Delete");
    edit.addEventListener("click", async () => {
      const changed = await editGroup(group);
      if (changed) {
        announce(`Saved “${changed.name}”.`);
        await pages.reload();
        // The row is drawn anew: its own Change button again, where the change shows (or,
        // renamed off this page or out of the search, the list).
        const again = body.querySelector(`button[data-change="${group.id}"]`);
        if (again) again.focus();
        else focusOn(listProblem.hidden ? table : listProblem);
      } else {
        edit.focus();
      }
    });
    remove.addEventListener("click", async () => {
      if (await deleteGroup(group)) {
        announce(`Deleted “${group.name}”.`);
        await pages.reload();
        focusOn(listProblem.hidden ? table : listProblem); // the list it left
      } else {
        remove.focus();
      }
    });
    return h(
      "tr",
      {},
      h("th", { scope: "row", "data-label": "Name" }, link, group.description ? h("span", { className: "sub" }, group.description) : null),
      h("td", { "data-label": "Kind and scope" }, kindAndScope(group)),
      h("td", { "data-label": "Direction" }, DIRECTIONS[group.direction]),
      h("td", { "data-label": "Active", className: "num" }, count(group.active_count)),
      h("td", { "data-label": "Expired", className: "num" }, count(group.expired_count)),
      h("td", { "data-label": "Matched (24 h)", className: "num", "data-matched": String(group.id) }, matchedText(group.id)),
      h("td", { "data-label": "Last change" }, instant(group.updated_at), refreshedNote(group)),
      h("td", { "data-label": "Actions" }, h("div", { className: "actions" }, edit, remove)),
    );
  }

  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      nameFilter = search.value.trim();
      pages.restart();
    }, 250);
  });

  newGroup.addEventListener("click", async () => {
    const group = await createGroup();
    if (group) {
      announce(`Created “${group.name}”.`);
      go(`#/groups/${group.id}`);
    } else {
      newGroup.focus();
    }
  });

  // What each group matched in the last 24 hours (24 hourly buckets, the current one last):
  // one call for the whole list, filled into the rows shown when it comes.
  let matched = null; // group id → checks matched; false when it could not be had
  function matchedText(groupId) {
    if (matched === null) return "…";
    if (matched === false) return "–";
    return count(matched.get(groupId) || 0);
  }
  call("GET", "/v1/stats", { query: { bucket: "hour", from: rangeStart(3600, 24) } })
    .then((answer) => new Map(answer.by_group.map((group) => [group.group_id, group.matched])))
    .catch(() => false)
    .then((found) => {
      matched = found;
      for (const cell of body.querySelectorAll("td[data-matched]")) cell.textContent = matchedText(Number(cell.dataset.matched));
    });

  // An upload that finished while this list was showing changed its counts.
  const refresh = () => (table.isConnected ? pages.reload() : window.removeEventListener(GROUPS_CHANGED, refresh));
  window.addEventListener(GROUPS_CHANGED, refresh);
  pages.restart();
}

/** "Block" or "Allow", with its scope and consent override beneath. */
export function kindAndScope(group) {
  const beneath = [SCOPES[group.scope] || group.scope];
  if (group.consent_overrides) beneath.push("consent overrides");
  return [KINDS[group.kind] || group.kind, h("span", { className: "sub" }, beneath.join(" · "))];
}

/** "Refreshed 3 days ago from dnc.zip" under a group's last change, marked once the
 * registry data is old enough to renew (the US allows 31 days). */
function refreshedNote(group) {
  const found = refreshed(group);
  if (!found) return null;
  const from = found.from ? ` from ${found.from}` : "";
  const text = `Refreshed ${found.when}${from}`;
  if (!found.stale) return h("span", { className: "sub" }, text);
  return h("span", { className: "sub stale" }, `${text}: renew it (registry data may be used for 31 days)`);
}
