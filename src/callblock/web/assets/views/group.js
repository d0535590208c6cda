import { ApiError, call, download, explain } from "../api.js";
import { announce, dialog, field, fill, h, loadingRow, pagedListing, rovingControls, setFieldError, uid } from "../dom.js";
import { count, DIRECTIONS, instant, instantToLocal, KINDS, localNow, localToInstant, plural, readerZoneName, SCOPES, splitNumbers } from "../format.js";
import { deleteGroup, editGroup } from "./group_forms.js";
import { limits, loadLimits } from "../limits.js";
import { uploadForm } from "./upload.js";

const PAGE_SIZE = 100;
const SHOWN_REJECTED = 100; // invalid inputs listed under the box; all of them stay in it

/**
 * One group: its entries first, then on demand the panels that add or upload numbers, and
 * the dialogs that change the group or one entry.
 */
export function renderGroup(main, { id, go }) {
  const heading = h("h1", { tabindex: "-1" }, "Group");
  const summary = h("div", { className: "summary" });
  const headProblem = h("p", { className: "form-error", role: "alert", hidden: true });
  let group = null;

  // Until the group has loaded, there is nothing for these to act on.
  const editButton = h("button", { type: "button", disabled: true }, "Change group");
  const downloadButton = h("button", { type: "button", disabled: true }, "Download CSV");
  const deleteButton = h("button", { type: "button", className: "danger", disabled: true }, "Delete group");
  let zone = readerZoneName();
  const entries = entryList(id, () => refreshHead(), () => zone);
  const panels = [];
  const adding = panel("Add numbers", (close) => addForm(id, () => changed(), close));
  const uploading = panel("Upload a file", (close) => uploadForm(id, () => changed(), () => group?.name ?? `#${id}`, close));

  fill(
    main,
    h("p", { className: "crumbs" }, h("a", { href: "#/groups" }, "← All groups")),
    heading,
    summary,
    h(
      "div",
      { className: "toolbar" },
      h("div", { className: "toolbar-part" }, adding.toggle, uploading.toggle),
      h("div", { className: "toolbar-part group-actions" }, editButton, downloadButton, deleteButton),
    ),
    headProblem,
    adding.element,
    uploading.element,
    entries.element,
  );

  // The zone under the account's name for it, once known (the browser may name the same
  // zone otherwise: Asia/Calcutta for Asia/Kolkata).
  call("GET", "/v1/account")
    .then((account) => {
      zone = readerZoneName(account.timezone);
      adding.form.showZone?.(zone);
    })
    .catch(() => {}); // the browser's name stays: still the right zone

  /** A panel opened on demand by its button; one at a time, Escape or Close shuts it. */
  function panel(title, build) {
    const toggle = h("button", { type: "button", "aria-expanded": "false" }, title);
    const form = build(() => shut(true));
    const element = h("div", { className: "panel", id: uid("panel"), hidden: true }, form.element);
    toggle.setAttribute("aria-controls", element.id);
    const self = { toggle, form, element, open, shut };
    function open() {
      for (const other of panels) if (other !== self) other.shut(false);
      element.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      element.querySelector("textarea, input, select")?.focus();
    }
    function shut(refocus) {
      if (element.hidden) return;
      element.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      if (refocus) toggle.focus();
    }
    toggle.addEventListener("click", () => (element.hidden ? open() : shut(true)));
    element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        shut(true);
      }
    });
    panels.push(self);
    return self;
  }

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
    // Back where the person was, as a dialog does; what changed is said, and shown beside it.
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
      downloadButton.focus(); // disabled while it ran, it lost the focus
    }
  });

  refreshHead().then(() => heading.focus());
  entries.restart();
}

/** Paste numbers or prefixes, one expiry and note for all of them. */
function addForm(groupId, onChanged, onClose) {
  const numbers = field(
    { label: "Numbers or prefixes", hint: "One per line, or separated by commas. A prefix ends in * (140* or +91140*). A number already in the group gets this expiry and note." },
    h("textarea", { name: "numbers", rows: "6", spellcheck: "false", autocomplete: "off" }),
  );
  const expiryHint = (zone) => `Your time zone (${zone}). Empty: never expires.`;
  const expiry = field(
    { label: "Expires (optional)", hint: expiryHint(readerZoneName()) },
    h("input", { name: "expires_at", type: "datetime-local", min: localNow() }),
  );
  const note = field({ label: "Note (optional)" }, h("input", { name: "note", maxlength: limits.note_max, autocomplete: "off" }));
  const rejected = h("ul", { className: "rejected", id: `${numbers.control.id}-rejected`, hidden: true });
  numbers.control.setAttribute("aria-describedby", `${numbers.control.getAttribute("aria-describedby")} ${rejected.id}`);
  // Either takes the focus when it tells how an Add ended.
  const outcome = h("p", { className: "outcome", role: "status", tabindex: "-1" });
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
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
    h("div", { className: "actions start" }, submit, h("button", { type: "button", onclick: onClose }, "Close")),
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
    // The Add button was disabled while it ran: the focus goes to what needs the person next.
    if (totals.invalid.length) numbers.control.focus();
    else if (element.querySelector("[aria-invalid='true']")) element.querySelector("[aria-invalid='true']").focus();
    else if (!problem.hidden) problem.focus();
    else outcome.focus();
  });
  return {
    element,
    /** Name the zone of the Expires field as the account names it. */
    showZone: (zone) => {
      expiry.wrapper.querySelector(".hint").textContent = expiryHint(zone);
    },
  };
}

/** The group's entries: search, status, pages, changing one entry and removing the selected. */
function entryList(groupId, onChanged, zoneName) {
  const search = field(
    { label: "Search", hint: "Any form of a number, part of one, or a prefix (140*)." },
    h("input", { type: "search", name: "q", maxlength: limits.entry_filter_max, autocomplete: "off", spellcheck: "false" }),
  );
  const status = field(
    { label: "Status" },
    h("select", { name: "status" }, h("option", { value: "all" }, "All"), h("option", { value: "active" }, "Active"), h("option", { value: "expired" }, "Expired")),
  );
  // Beside the Remove button, not in the table's head: on a phone the head is hidden.
  const selectAll = h("input", { type: "checkbox", id: `select-page-${groupId}` });
  const selectAllField = h("div", { className: "check" }, selectAll, h("label", { for: selectAll.id }, "Select this page"));
  const keys = h("p", { className: "hint keys-hint", id: uid("keys") }, "In the list, Tab stops once: the arrow keys move between entries and along a row, Space selects.");
  const body = h("tbody", {}, loadingRow(7));
  const roving = rovingControls(body);
  const table = h(
    "table",
    { className: "list entries", "aria-describedby": keys.id },
    h("caption", { className: "visually-hidden" }, "Entries of this group"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", className: "pick" }, h("span", { className: "visually-hidden" }, "Selected")),
        ["Number or prefix", "Status", "Expires", "Note", "Last change"].map((title) => h("th", { scope: "col" }, title)),
        h("th", { scope: "col" }, h("span", { className: "visually-hidden" }, "Change")),
      ),
    ),
    body,
  );
  const removeButton = h("button", { type: "button", className: "danger", disabled: true }, "Remove selected");
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  // What the last change to the list did; it takes the focus, since the rows it names may be gone.
  const outcome = h("p", { className: "outcome", role: "status", tabindex: "-1" });
  const filters = { q: "", status: "all" };
  const pages = pagedListing({
    label: "Pages of entries",
    pageSize: PAGE_SIZE,
    table,
    twice: true,
    focusFirst: true,
    problem,
    fetchPage: (cursor) => {
      problem.hidden = true;
      return call("GET", `/v1/groups/${groupId}/numbers`, { query: { ...filters, cursor, limit: PAGE_SIZE } });
    },
    show: (answer) => {
      const empty = filters.q || filters.status !== "all" ? "No entry matches." : "No entries yet: add numbers or upload a file.";
      shownEntries.clear();
      for (const entry of answer.data) shownEntries.set(entry.number, entry);
      fill(body, answer.data.length ? answer.data.map(row) : h("tr", {}, h("td", { colspan: "7", className: "empty" }, empty)));
      roving.refresh();
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
  const [pagerAbove, pagerBelow] = pages.elements;
  const element = h(
    "section",
    { "aria-labelledby": "entries-title", className: "entries-section" },
    h("h2", { id: "entries-title" }, "Entries"),
    h("div", { className: "filters" }, search.wrapper, status.wrapper),
    problem,
    h("div", { className: "toolbar" }, selectAllField, removeButton),
    outcome,
    pagerAbove,
    keys,
    h("div", { className: "table-wrap" }, table),
    pagerBelow,
  );

  const picked = () => [...body.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  const shownEntries = new Map(); // an entry's number (E.164, as the API names it) → the entry shown
  const readable = (number) => shownEntries.get(number)?.international || number;
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
    const label = entry.kind === "prefix" ? `${international} (prefix)` : international;
    const box = h("input", { type: "checkbox", value: entry.number, "aria-label": `Select ${label}` });
    const change = h("button", { type: "button", className: "small", "aria-label": `Edit ${label}` }, "Edit");
    change.addEventListener("click", () => editEntry(entry, label, change));
    return h(
      "tr",
      { className: entry.status, "data-number": entry.number },
      // The whole cell is the checkbox's label: a tap target of 44 by 44 px around a small box.
      h("td", { className: "pick" }, h("label", { className: "tap" }, box)),
      h(
        "th",
        { scope: "row", "data-label": "Number or prefix" },
        h("code", { className: "number" }, international),
        entry.kind === "prefix" ? h("span", { className: "tag" }, "prefix") : null,
        national ? h("span", { className: "sub national" }, h("span", { className: "visually-hidden" }, "Nationally: "), h("code", {}, national)) : null,
      ),
      h("td", { "data-label": "Status" }, h("span", { className: `status ${entry.status}` }, entry.status === "active" ? "Active" : "Expired")),
      h("td", { "data-label": "Expires" }, instant(entry.expires_at)),
      h("td", { "data-label": "Note", className: "note" }, entry.note || ""),
      h("td", { "data-label": "Last change" }, instant(entry.updated_at)),
      h("td", { className: "edit" }, change),
    );
  }

  /** One entry's expiry and note, in a dialog; the focus comes back to its row, now changed. */
  async function editEntry(entry, label, opener) {
    const hint = () => `Your time zone (${zoneName()}). Empty: never expires.`;
    const was = instantToLocal(entry.expires_at);
    const expiry = field({ label: "Expires", hint: hint() }, h("input", { name: "expires_at", type: "datetime-local", min: localNow(), value: was }));
    const note = field({ label: "Note" }, h("input", { name: "note", maxlength: limits.note_max, autocomplete: "off", value: entry.note || "" }));
    let changed = false;
    const outcome = await dialog({
      title: `Edit ${label}`,
      body: [expiry.wrapper, note.wrapper],
      confirmLabel: "Save",
      onConfirm: async () => {
        for (const each of [expiry, note]) setFieldError(each, "");
        let expiresAt;
        try {
          // Left as it was: the expiry to the second, as stored (the field shows minutes).
          expiresAt = expiry.control.value === was ? entry.expires_at : localToInstant(expiry.control.value);
        } catch {
          setFieldError(expiry, "Not a date and time.");
          expiry.control.focus();
          return "Fix the fields marked above.";
        }
        if (expiresAt === entry.expires_at && note.control.value === (entry.note || "")) return "";
        if (expiresAt && new Date(expiresAt) <= new Date()) {
          setFieldError(expiry, "Must be in the future (or empty: never expires).");
          expiry.control.focus();
          return "Fix the fields marked above.";
        }
        try {
          await call("POST", `/v1/groups/${groupId}/numbers`, {
            json: { numbers: [entry.number], expires_at: expiresAt, note: note.control.value, all_or_nothing: true },
          });
          changed = true;
          return "";
        } catch (error) {
          const fields = error instanceof ApiError ? error.fieldErrors : {};
          if (fields.expires_at) setFieldError(expiry, fields.expires_at);
          else if (fields.note) setFieldError(note, fields.note);
          else return explain(error);
          (fields.expires_at ? expiry : note).control.focus();
          return "Fix the fields marked above.";
        }
      },
    });
    if (!changed) {
      if (opener.isConnected) opener.focus();
      return;
    }
    announce(`Saved ${label}.`);
    await Promise.all([pages.reload(), onChanged()]);
    const shown = body.querySelector(`tr[data-number="${CSS.escape(entry.number)}"]`);
    if (shown) shown.querySelector("button.small")?.focus();
    else {
      outcome.textContent = `Saved ${label}: it no longer shows under this search.`;
      outcome.focus();
    }
  }

  function restart() {
    setFieldError(search, "");
    // As typed: the server reads any spelling of a number, spaces and all.
    filters.q = search.control.value.trim();
    filters.status = status.control.value;
    outcome.textContent = "";
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
    const shown = chosen.slice(0, 5).map(readable).join(", ") + (chosen.length > 5 ? ", …" : "");
    let removed = 0;
    const answer = await dialog({
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
    if (!answer) {
      removeButton.focus();
      return;
    }
    outcome.textContent = `Removed ${plural(removed, "entry", "entries")}.`;
    await Promise.all([pages.reload(), onChanged()]);
    outcome.focus(); // the rows it names are gone; the Remove button is disabled now
  });

  return { element, reload: pages.reload, restart: pages.restart };
}
