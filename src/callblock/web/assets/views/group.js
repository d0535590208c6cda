import { ApiError, call, download, explain } from "../api.js";
import { announce, dialog, field, fill, h, loadingRow, pagedListing, setFieldError } from "../dom.js";
import { count, DIRECTIONS, instant, KINDS, localNow, localToInstant, plural, readerZoneName, SCOPES, splitNumbers } from "../format.js";
import { deleteGroup, editGroup } from "./group_forms.js";
import { limits, loadLimits } from "../limits.js";
import { uploadForm } from "./upload.js";

const PAGE_SIZE = 100;
const SHOWN_REJECTED = 100; // invalid inputs listed under the box; all of them stay in it

/** One group: its entries, and the forms that add, upload and remove them. */
export function renderGroup(main, { id, go }) {
  const heading = h("h1", { tabindex: "-1" }, "Group");
  const summary = h("div", { className: "summary" });
  const headProblem = h("p", { className: "form-error", role: "alert", hidden: true });
  let group = null;

  // Until the group has loaded, there is nothing for these to act on.
  const editButton = h("button", { type: "button", disabled: true }, "Change group");
  const downloadButton = h("button", { type: "button", disabled: true }, "Download CSV");
  const deleteButton = h("button", { type: "button", className: "danger", disabled: true }, "Delete group");
  const entries = entryList(id, () => refreshHead());
  const adding = addForm(id, () => changed());
  const uploading = uploadForm(id, () => changed(), () => group?.name ?? `#${id}`);

  fill(
    main,
    h("p", { className: "crumbs" }, h("a", { href: "#/groups" }, "← All groups")),
    heading,
    summary,
    h("div", { className: "toolbar" }, editButton, downloadButton, deleteButton),
    headProblem,
    h("div", { className: "columns" }, adding.element, uploading.element),
    entries.element,
  );

  async function refreshHead() {
    try {
      group = await call("GET", `/v1/groups/${id}`);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
        fill(main, h("h1", { tabindex: "-1" }, "No such group"), h("p", {}, "It may have been deleted. "), h("p", {}, h("a", { href: "#/groups" }, "Back to all groups")));
        main.querySelector("h1").focus();
      } else {
        headProblem.textContent = explain(error);
        headProblem.hidden = false;
      }
      return;
    }
    headProblem.hidden = true;
    for (const button of [editButton, downloadButton, deleteButton]) button.disabled = false;
    document.title = `${group.name} · callblock`;
    heading.textContent = group.name;
    fill(
      summary,
      group.description ? h("p", { className: "lead" }, group.description) : null,
      h(
        "dl",
        { className: "facts" },
        h("div", {}, h("dt", {}, "Kind"), h("dd", {}, KINDS[group.kind] || group.kind)),
        h("div", {}, h("dt", {}, "Scope"), h("dd", {}, SCOPES[group.scope] || group.scope)),
        group.kind === "block" ? h("div", {}, h("dt", {}, "Consent overrides"), h("dd", {}, group.consent_overrides ? "Yes" : "No")) : null,
        h("div", {}, h("dt", {}, "Direction"), h("dd", {}, DIRECTIONS[group.direction])),
        h("div", {}, h("dt", {}, "Active"), h("dd", {}, count(group.active_count))),
        h("div", {}, h("dt", {}, "Expired"), h("dd", {}, count(group.expired_count))),
        h("div", {}, h("dt", {}, "Last change"), h("dd", {}, instant(group.updated_at))),
      ),
    );
  }

  async function changed() {
    await Promise.all([refreshHead(), entries.reload()]);
  }

  editButton.addEventListener("click", async () => {
    if (!group) return;
    const result = await editGroup(group);
    if (result) {
      announce(`Saved “${result.name}”.`);
      await refreshHead();
    }
    editButton.focus();
  });
  deleteButton.addEventListener("click", async () => {
    if (!group) return;
    if (await deleteGroup(group)) {
      announce(`Deleted “${group.name}”.`);
      go("#/groups");
    } else {
      deleteButton.focus();
    }
  });
  downloadButton.addEventListener("click", async () => {
    if (!group) return;
    downloadButton.disabled = true;
    const filename = `${group.name.replace(/[^\p{L}\p{N}._-]+/gu, "-")}.csv`;
    const entries = group.active_count + group.expired_count;
    const shown = (received) => {
      downloadButton.textContent = `Downloading ${plural(entries, "entry", "entries")}… ${(received / 1e6).toFixed(1)} MB`;
    };
    try {
      shown(0);
      const size = await download(`/v1/groups/${id}/numbers.csv`, filename, shown);
      announce(`Downloaded ${filename}: ${plural(entries, "entry", "entries")}, ${count(size)} bytes.`);
    } catch (error) {
      headProblem.textContent = explain(error);
      headProblem.hidden = false;
    } finally {
      downloadButton.disabled = false;
      downloadButton.textContent = "Download CSV";
    }
  });

  refreshHead().then(() => heading.focus());
  entries.restart();
}

/** Paste numbers or prefixes, one expiry and note for all of them. */
function addForm(groupId, onChanged) {
  const numbers = field(
    { label: "Numbers or prefixes", hint: "One per line, or separated by commas. A prefix ends in * (140* or +91140*). A number already in the group gets this expiry and note." },
    h("textarea", { name: "numbers", rows: "6", spellcheck: "false", autocomplete: "off" }),
  );
  const expiryHint = (zone) => `Your time zone (${zone}). Empty: never expires.`;
  const expiry = field(
    { label: "Expires (optional)", hint: expiryHint(readerZoneName()) },
    h("input", { name: "expires_at", type: "datetime-local", min: localNow() }),
  );
  // The zone under the account's name for it, once known (the browser may name the same
  // zone otherwise: Asia/Calcutta for Asia/Kolkata).
  call("GET", "/v1/account")
    .then((account) => {
      expiry.wrapper.querySelector(".hint").textContent = expiryHint(readerZoneName(account.timezone));
    })
    .catch(() => {}); // the browser's name stays: still the right zone
  const note = field({ label: "Note (optional)" }, h("input", { name: "note", maxlength: limits.note_max, autocomplete: "off" }));
  const rejected = h("ul", { className: "rejected", id: `${numbers.control.id}-rejected`, hidden: true });
  numbers.control.setAttribute("aria-describedby", `${numbers.control.getAttribute("aria-describedby")} ${rejected.id}`);
  const outcome = h("p", { className: "outcome", role: "status" });
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", className: "primary" }, "Add");
  const element = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": "add-title" },
    h("h2", { id: "add-title" }, "Add numbers"),
    numbers.wrapper,
    rejected,
    h("div", { className: "row" }, expiry.wrapper, note.wrapper),
    problem,
    outcome,
    submit,
  );

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const entry of [numbers, expiry, note]) setFieldError(entry, "");
    problem.hidden = true;
    outcome.textContent = "";
    const typed = splitNumbers(numbers.control.value);
    if (typed.length === 0) {
      setFieldError(numbers, "Type or paste at least one number.");
      numbers.control.focus();
      return;
    }
    let expiresAt;
    try {
      expiresAt = localToInstant(expiry.control.value);
    } catch {
      setFieldError(expiry, "Not a date and time.");
      expiry.control.focus();
      return;
    }
    if (expiresAt && new Date(expiresAt) <= new Date()) {
      setFieldError(expiry, "Must be in the future.");
      expiry.control.focus();
      return;
    }
    submit.disabled = true;
    const totals = { added: 0, updated: 0, invalid: [] };
    let sent = 0;
    try {
      // /v1 takes `numbers_per_change` a request: a longer paste goes in several, and what
      // was not sent when one fails stays in the box.
      await loadLimits();
      const perRequest = limits.numbers_per_change;
      for (; sent < typed.length; sent += perRequest) {
        const batch = typed.slice(sent, sent + perRequest);
        if (typed.length > perRequest) submit.textContent = `Adding… ${count(sent)} of ${count(typed.length)}`;
        const answer = await call("POST", `/v1/groups/${groupId}/numbers`, {
          json: { numbers: batch, expires_at: expiresAt, note: note.control.value || null },
        });
        totals.added += answer.added;
        totals.updated += answer.updated;
        totals.invalid.push(...answer.invalid);
      }
    } catch (error) {
      const fields = error instanceof ApiError ? error.fieldErrors : {};
      if (fields.expires_at) setFieldError(expiry, fields.expires_at);
      else if (fields.note) setFieldError(note, fields.note);
      else {
        problem.textContent = explain(error);
        problem.hidden = false;
      }
    } finally {
      submit.disabled = false;
      submit.textContent = "Add";
    }
    // The box keeps what did not go in: the invalid inputs, and any batch not sent.
    const kept = [...totals.invalid.map((item) => String(item.input)), ...typed.slice(sent)];
    numbers.control.value = kept.join("\n");
    const listed = totals.invalid.slice(0, SHOWN_REJECTED);
    fill(
      rejected,
      listed.map((item) => h("li", {}, h("code", {}, String(item.input)), ` — ${item.reason}`)),
      totals.invalid.length > listed.length ? h("li", {}, `…and ${count(totals.invalid.length - listed.length)} more, all still in the box.`) : null,
    );
    rejected.hidden = totals.invalid.length === 0;
    if (totals.invalid.length) {
      setFieldError(numbers, `${plural(totals.invalid.length, "input was", "inputs were")} not added: ${totals.invalid.length === 1 ? "it is" : "they are"} still in the box, with the reason below it.`);
    }
    if (sent > 0) {
      outcome.textContent = `Added ${count(totals.added)}, updated ${count(totals.updated)}.`;
      await onChanged();
    }
    if (totals.invalid.length) numbers.control.focus();
  });
  return { element };
}

/** The group's entries: search, status, pages, and removing the selected ones. */
function entryList(groupId, onRemoved) {
  const search = field(
    { label: "Search", hint: "A number in any form (09876543210, +91 98765 43210), part of one (98765), or a prefix (140*)." },
    h("input", { type: "search", name: "q", maxlength: limits.entry_filter_max, autocomplete: "off", spellcheck: "false" }),
  );
  const status = field(
    { label: "Status" },
    h("select", { name: "status" }, h("option", { value: "all" }, "All"), h("option", { value: "active" }, "Active"), h("option", { value: "expired" }, "Expired")),
  );
  // Beside the Remove button, not in the table's head: on a phone the head is hidden.
  const selectAll = h("input", { type: "checkbox", id: `select-page-${groupId}` });
  const selectAllField = h("div", { className: "check" }, selectAll, h("label", { for: selectAll.id }, "Select all on this page"));
  const body = h("tbody", {}, loadingRow(6));
  const table = h(
    "table",
    { className: "list entries" },
    h("caption", { className: "visually-hidden" }, "Entries of this group"),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col", className: "pick" }, h("span", { className: "visually-hidden" }, "Selected")), ["Number or prefix", "Status", "Expires", "Note", "Last change"].map((title) => h("th", { scope: "col" }, title))),
    ),
    body,
  );
  const removeButton = h("button", { type: "button", className: "danger", disabled: true }, "Remove selected");
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const filters = { q: "", status: "all" };
  const pages = pagedListing({
    label: "Pages of entries",
    pageSize: PAGE_SIZE,
    table,
    fetchPage: (cursor) => {
      problem.hidden = true;
      return call("GET", `/v1/groups/${groupId}/numbers`, { query: { ...filters, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) => {
      const empty = filters.q || filters.status !== "all" ? "No entry matches." : "No entries yet: add numbers above.";
      fill(body, answer.data.length ? answer.data.map(row) : h("tr", {}, h("td", { colspan: "6", className: "empty" }, empty)));
      updateSelection();
    },
    showError: (error) => {
      const fields = error instanceof ApiError ? error.fieldErrors : {};
      if (fields.q) setFieldError(search, fields.q);
      else {
        problem.textContent = explain(error);
        problem.hidden = false;
      }
    },
  });
  const element = h(
    "section",
    { "aria-labelledby": "entries-title" },
    h("h2", { id: "entries-title" }, "Entries"),
    h("div", { className: "filters" }, search.wrapper, status.wrapper),
    problem,
    h("div", { className: "toolbar" }, selectAllField, removeButton),
    h("div", { className: "table-wrap" }, table),
    pages.element,
  );

  const picked = () => [...body.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  const readable = new Map(); // an entry's number (E.164, as the API names it) → its spaced form
  function updateSelection() {
    const chosen = picked().length;
    const boxes = body.querySelectorAll("input[type=checkbox]").length;
    removeButton.disabled = chosen === 0;
    removeButton.textContent = chosen ? `Remove selected (${count(chosen)})` : "Remove selected";
    selectAll.checked = boxes > 0 && chosen === boxes;
    selectAll.indeterminate = chosen > 0 && chosen < boxes;
  }
  body.addEventListener("change", updateSelection);
  selectAll.addEventListener("change", () => {
    for (const box of body.querySelectorAll("input[type=checkbox]")) box.checked = selectAll.checked;
    updateSelection();
  });

  function row(entry) {
    // Spaced for reading, as the server formats it (a server too old to: the E.164 form).
    const international = entry.international || entry.number;
    const national = entry.national && entry.national !== international ? entry.national : null;
    readable.set(entry.number, international);
    const label = entry.kind === "prefix" ? `${international} (prefix)` : international;
    return h(
      "tr",
      { className: entry.status },
      h("td", { className: "pick" }, h("input", { type: "checkbox", value: entry.number, "aria-label": `Select ${label}` })),
      h(
        "th",
        { scope: "row", "data-label": "Number or prefix" },
        h("code", { className: "number" }, international),
        entry.kind === "prefix" ? h("span", { className: "tag" }, "prefix") : null,
        national ? h("span", { className: "sub national" }, h("span", { className: "visually-hidden" }, "Nationally: "), h("code", {}, national)) : null,
      ),
      h("td", { "data-label": "Status" }, h("span", { className: `status ${entry.status}` }, entry.status === "active" ? "Active" : "Expired")),
      h("td", { "data-label": "Expires" }, instant(entry.expires_at)),
      h("td", { "data-label": "Note" }, entry.note || ""),
      h("td", { "data-label": "Last change" }, instant(entry.updated_at)),
    );
  }

  function restart() {
    setFieldError(search, "");
    // As typed: the server reads any spelling of a number, spaces and all.
    filters.q = search.control.value.trim();
    filters.status = status.control.value;
    pages.restart();
  }
  let typing;
  search.control.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(restart, 250);
  });
  status.control.addEventListener("change", restart);

  removeButton.addEventListener("click", async () => {
    const chosen = picked();
    if (chosen.length === 0) return;
    const shown = chosen.slice(0, 5).map((number) => readable.get(number) || number).join(", ") + (chosen.length > 5 ? ", …" : "");
    let removed = 0;
    const outcome = await dialog({
      title: `Remove ${plural(chosen.length, "entry", "entries")}?`,
      body: h("p", {}, `${shown} will no longer be blocked by this group.`),
      confirmLabel: "Remove",
      danger: true,
      onConfirm: async () => {
        try {
          removed = (await call("DELETE", `/v1/groups/${groupId}/numbers`, { json: { numbers: chosen } })).removed;
          return "";
        } catch (error) {
          return explain(error);
        }
      },
    });
    if (outcome) {
      announce(`Removed ${plural(removed, "entry", "entries")}.`);
      await Promise.all([pages.reload(), onRemoved()]);
    }
    removeButton.focus();
  });

  return { element, reload: pages.reload, restart: pages.restart };
}
