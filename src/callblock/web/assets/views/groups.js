import { call, explain } from "../api.js";
import { announce, fill, h, pagedListing } from "../dom.js";
import { count, DIRECTIONS, instant } from "../format.js";
import { deleteGroup, editGroup, groupFields, showErrors } from "./group_forms.js";

const PAGE_SIZE = 50;

/** The list of groups, with a form to create one. */
export function renderGroups(main, { go }) {
  const fields = groupFields();
  const formProblem = h("p", { className: "form-error", role: "alert", hidden: true });
  const create = h("button", { type: "submit", className: "primary" }, "Create group");
  const form = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": "new-group-title" },
    h("h2", { id: "new-group-title" }, "New group"),
    h("div", { className: "row" }, fields.all.map((entry) => entry.wrapper)),
    formProblem,
    create,
  );

  const search = h("input", { type: "search", id: "group-search", name: "name", autocomplete: "off" });
  const body = h("tbody");
  const table = h(
    "table",
    { className: "list" },
    h("caption", { className: "visually-hidden" }, "Your groups"),
    h("thead", {}, h("tr", {}, ["Name", "Direction", "Active", "Expired", "Last change", "Actions"].map((title) => h("th", { scope: "col" }, title)))),
    body,
  );
  const listProblem = h("p", { className: "form-error", role: "alert", hidden: true });
  let nameFilter = "";
  const pages = pagedListing({
    label: "Pages of groups",
    pageSize: PAGE_SIZE,
    table,
    fetchPage: (cursor) => {
      listProblem.hidden = true;
      return call("GET", "/v1/groups", { query: { name: nameFilter, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) =>
      fill(
        body,
        answer.data.length
          ? answer.data.map(row)
          : h("tr", {}, h("td", { colspan: "6", className: "empty" }, nameFilter ? "No group has that in its name." : "No groups yet: create one above.")),
      ),
    showError: (error) => {
      listProblem.textContent = explain(error);
      listProblem.hidden = false;
    },
  });

  fill(
    main,
    h("h1", { tabindex: "-1" }, "Groups"),
    form,
    h(
      "section",
      { "aria-labelledby": "groups-title" },
      h("h2", { id: "groups-title" }, "Your groups"),
      h("div", { className: "filters" }, h("div", { className: "field" }, h("label", { for: "group-search" }, "Find a group by name"), search)),
      listProblem,
      h("div", { className: "table-wrap" }, table),
      pages.element,
    ),
  );

  function row(group) {
    const link = h("a", { href: `#/groups/${group.id}` }, group.name);
    const edit = h("button", { type: "button", "aria-label": `Change ${group.name}` }, "Change");
    const remove = h("button", { type: "button", className: "danger", "aria-label": `Delete ${group.name}` }, "Delete");
    edit.addEventListener("click", async () => {
      const changed = await editGroup(group);
      if (changed) {
        announce(`Saved “${changed.name}”.`);
        await pages.reload();
      }
      edit.focus();
    });
    remove.addEventListener("click", async () => {
      if (await deleteGroup(group)) {
        announce(`Deleted “${group.name}”.`);
        await pages.reload();
        search.focus();
      } else {
        remove.focus();
      }
    });
    return h(
      "tr",
      {},
      h("th", { scope: "row", "data-label": "Name" }, link, group.description ? h("span", { className: "sub" }, group.description) : null),
      h("td", { "data-label": "Direction" }, DIRECTIONS[group.direction]),
      h("td", { "data-label": "Active", className: "num" }, count(group.active_count)),
      h("td", { "data-label": "Expired", className: "num" }, count(group.expired_count)),
      h("td", { "data-label": "Last change" }, instant(group.updated_at)),
      h("td", { "data-label": "Actions", className: "actions" }, edit, remove),
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

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formProblem.hidden = true;
    create.disabled = true;
    try {
      const group = await call("POST", "/v1/groups", {
        json: {
          name: fields.name.control.value.trim(),
          direction: fields.direction.control.value,
          description: fields.description.control.value,
        },
      });
      announce(`Created “${group.name}”.`);
      go(`#/groups/${group.id}`);
    } catch (error) {
      const message = showErrors(error, { name: fields.name, direction: fields.direction, description: fields.description });
      if (message) {
        formProblem.textContent = message;
        formProblem.hidden = false;
      }
    } finally {
      create.disabled = false;
    }
  });

  pages.restart();
}
