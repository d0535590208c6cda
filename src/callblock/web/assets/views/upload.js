import { ApiError, explain, upload } from "../api.js";
import { announce, field, fill, GROUPS_CHANGED, h, setFieldError, uid } from "../dom.js";
import { count, percent, plural } from "../format.js";
import { limits } from "../limits.js";

const SHOWN_LINES = 200; // of the invalid lines; the summary gives their total
const DEFAULT_MAX_REMOVAL = 20; // percent: the server's own default (docs/api.md, Replacing a group)

/** What an upload does to the group: the import's `mode`, as the form offers it. */
const MODES = [
  { value: "add", label: "Add to the group", hint: "The file's numbers join the group; its other entries stay." },
  { value: "replace", label: "Replace the group with the file", hint: "The group becomes exactly the file's entries: those not in it are removed." },
  { value: "changes", label: "Apply a change list (A/D lines)", hint: "Each line adds (A, add or +) or deletes (D, delete or -) its number, in the file's order." },
];

/**
 * Upload a CSV or text file (gzip too) into a group, with progress and a summary: added to
 * it, replacing it (with the server's guard against removing too much), or as a change list.
 * groupName() names the group for a notice given elsewhere, if the person moved on meanwhile.
 */
export function uploadForm(groupId, onChanged, groupName, onClose = null) {
  const file = field(
    { label: "CSV or text file", hint: "A number per line, or a CSV with a phone or number column. .gz files too." },
    h("input", { type: "file", name: "file", accept: ".csv,.txt,.gz,text/csv,text/plain,application/gzip" }),
  );
  const modeName = uid("mode");
  const radios = MODES.map((mode, index) =>
    h("input", { type: "radio", name: modeName, value: mode.value, id: `${modeName}-${mode.value}`, checked: index === 0, "aria-describedby": `${modeName}-${mode.value}-hint` }),
  );
  // Under Replace: the guard, and how much it lets through.
  const allowance = field(
    { label: "Allow removing up to (% of the group)", hint: "0 to 100; 100 allows any replace." },
    h("input", { type: "number", name: "max_removal", min: "0", max: "100", step: "any", inputmode: "decimal", value: String(DEFAULT_MAX_REMOVAL), className: "short" }),
  );
  const guard = h("p", { className: "hint", id: uid("guard") }, `A replace that would remove more than ${DEFAULT_MAX_REMOVAL}% of the group is refused, so a truncated download cannot wipe a registry.`);
  allowance.control.setAttribute("aria-describedby", `${guard.id} ${allowance.control.getAttribute("aria-describedby")}`);
  // Told when the guard refused a replace; focused, so it is read out, and the allowance to
  // raise is the next stop.
  const refusal = h("p", { className: "form-error", tabindex: "-1", hidden: true });
  const replaceGuard = h("div", { className: "mode-extra" }, guard, refusal, allowance.wrapper);
  const extras = { replace: replaceGuard };
  const choices = MODES.map((mode, index) =>
    h(
      "div",
      { className: "choice" },
      h("div", { className: "check" }, radios[index], h("label", { for: radios[index].id }, mode.label)),
      h("p", { className: "hint", id: `${modeName}-${mode.value}-hint` }, mode.hint),
      extras[mode.value] || null,
    ),
  );
  const modeChoice = h("fieldset", { className: "choices" }, h("legend", {}, "What the file does"), choices);
  const skip = h("input", { type: "checkbox", name: "skip_invalid", checked: true, id: `skip-${groupId}` });
  const skipField = h(
    "div",
    { className: "check" },
    skip,
    h("label", { for: skip.id }, "Import the valid lines even if some are invalid"),
  );
  const note = field(
    { label: "Note for the file's entries (optional)", hint: "Set on every entry the file holds (a change list: those it adds), as Add numbers sets one." },
    h("input", { name: "note", maxlength: limits.note_max, autocomplete: "off" }),
  );
  const column = field({ label: "Number column (optional)", hint: "Its header, or its position (1 is the first). Found by itself when empty." }, h("input", { name: "column", maxlength: limits.column_max, autocomplete: "off" }));
  const expiryColumn = field({ label: "Expiry column (optional)", hint: "Its header or position. Each row's expiry: 2030-01-31T18:00:00+05:30, or 2030-01-31 18:00:00 in the account's time zone." }, h("input", { name: "expiry_column", maxlength: limits.column_max, autocomplete: "off" }));
  const opColumn = field({ label: "Operation column (optional)", hint: "Its header or position: the column of A or D. Found by itself when empty." }, h("input", { name: "op_column", maxlength: limits.column_max, autocomplete: "off" }));
  const more = h("details", {}, h("summary", {}, "Columns"), column.wrapper, expiryColumn.wrapper, opColumn.wrapper);

  const chosenMode = () => radios.find((radio) => radio.checked).value;
  // Each mode shows what it reads: a change list has no expiries, only a replace a guard.
  function showMode() {
    const mode = chosenMode();
    replaceGuard.hidden = mode !== "replace";
    expiryColumn.wrapper.hidden = mode === "changes";
    opColumn.wrapper.hidden = mode !== "changes";
  }
  for (const radio of radios) radio.addEventListener("change", showMode);
  showMode();

  const bar = h("progress", { max: "100", "aria-labelledby": `progress-${groupId}` });
  const barLabel = h("span", { id: `progress-${groupId}` }, "");
  const progress = h("div", { className: "progress", hidden: true }, barLabel, bar);
  // Both take the focus when they tell how an upload ended.
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const result = h("div", { className: "upload-result", role: "status", tabindex: "-1" });
  const submit = h("button", { type: "submit", className: "primary" }, "Upload");
  const cancel = h("button", { type: "button", hidden: true }, "Cancel upload");
  const close = onClose ? h("button", { type: "button", onclick: onClose }, "Close") : null;
  const element = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": `upload-title-${groupId}` },
    h("h2", { id: `upload-title-${groupId}` }, "Upload a file"),
    file.wrapper,
    modeChoice,
    skipField,
    note.wrapper,
    more,
    progress,
    problem,
    result,
    h("div", { className: "actions start" }, submit, cancel, close),
  );

  let running = null;
  // Closing or reloading the tab would cut the upload off: the browser asks first.
  const holdPage = (event) => event.preventDefault();
  cancel.addEventListener("click", () => running?.cancel());

  function showProgress(sent, total) {
    progress.hidden = false;
    if (sent === null) {
      bar.removeAttribute("value"); // indeterminate: the server is reading the file
      barLabel.textContent = "Uploaded. The server is reading the file…";
      cancel.hidden = true;
      return;
    }
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    bar.value = percent;
    barLabel.textContent = `Uploading: ${percent}% (${count(sent)} of ${count(total)} bytes)`;
  }

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const entry of [file, allowance, note, column, expiryColumn, opColumn]) setFieldError(entry, "");
    problem.hidden = true;
    refusal.hidden = true;
    refusal.textContent = "";
    fill(result);
    const chosen = file.control.files[0];
    if (!chosen) {
      setFieldError(file, "Choose a file first.");
      file.control.focus();
      return;
    }
    if (chosen.size === 0) {
      setFieldError(file, "This file is empty.");
      file.control.focus();
      return;
    }
    const mode = chosenMode();
    const allowed = Number(allowance.control.value);
    if (mode === "replace" && (allowance.control.value.trim() === "" || !Number.isFinite(allowed) || allowed < 0 || allowed > 100)) {
      setFieldError(allowance, "Give a share from 0 to 100.");
      allowance.control.focus();
      return;
    }
    submit.disabled = true;
    cancel.hidden = false;
    cancel.focus(); // the disabled Upload button would drop it; Cancel is what can be done now
    showProgress(0, chosen.size);
    const query = {
      mode,
      skip_invalid: skip.checked ? "true" : "false",
      column: column.control.value.trim(),
      expiry_column: mode === "changes" ? "" : expiryColumn.control.value.trim(),
      op_column: mode === "changes" ? opColumn.control.value.trim() : "",
      max_removal: mode === "replace" ? String(allowed / 100) : "",
      file_name: chosen.name.slice(0, 255),  // recorded as the group's refreshed_from
      note: note.control.value, // none when empty: the entries keep their notes
    };
    running = upload(`/v1/groups/${groupId}/numbers:import`, query, chosen, showProgress);
    window.addEventListener("beforeunload", holdPage);
    try {
      const summary = await running.done;
      fill(result, summarise(chosen.name, summary, mode));
      focusIfShown(result);
      if (!element.isConnected) {
        // The person went to another screen meanwhile: the import still landed; say so.
        announce(`${done(mode, chosen.name, groupName())}: ${inWords(summary, mode)}, ${plural(summary.invalid.length, "invalid line", "invalid lines")} skipped.`);
        window.dispatchEvent(new CustomEvent(GROUPS_CHANGED));
      }
      await onChanged();
    } catch (error) {
      const refused = error instanceof ApiError && (error.problem.type || "").endsWith(":too-many-removals");
      if (refused) {
        refusal.textContent = tooManyRemovals(error.problem);
        refusal.hidden = false;
        if (element.isConnected) refusal.focus();
      } else {
        showFailure(error, chosen.name);
        focusIfShown(element.querySelector("[aria-invalid='true']") || (problem.hidden ? result : problem));
      }
      if (!element.isConnected && !(error instanceof ApiError && error.status === -1)) {
        announce(`The upload of ${chosen.name} into “${groupName()}” failed: ${refused ? refusal.textContent : explain(error)}`);
      }
    } finally {
      window.removeEventListener("beforeunload", holdPage);
      running = null;
      submit.disabled = false;
      cancel.hidden = true;
      progress.hidden = true;
    }
  });

  /** Focus what tells the outcome, unless the person has moved on (another screen, or closed). */
  function focusIfShown(target) {
    if (target.isConnected && target.getClientRects().length) target.focus();
  }

  function showFailure(error, name) {
    const kind = error instanceof ApiError ? error.problem.type || "" : "";
    if (kind.endsWith(":invalid-lines")) {
      const lines = error.problem.invalid_lines || [];
      const total = Number(/^(\d+)/.exec(error.message)?.[1] ?? lines.length);
      fill(
        result,
        h("p", { className: "form-error" }, `Nothing was imported from ${name}: ${plural(total, "line is", "lines are")} invalid.`),
        h("p", {}, "Fix them in the file, or tick “Import the valid lines” and upload again."),
        invalidTable(lines, name, total),
      );
      return;
    }
    if (error instanceof ApiError && error.fieldErrors.note) return setFieldError(note, error.fieldErrors.note);
    if (error instanceof ApiError && error.fieldErrors.column) return setFieldError(column, error.fieldErrors.column);
    if (error instanceof ApiError && error.fieldErrors.expiry_column) return setFieldError(expiryColumn, error.fieldErrors.expiry_column);
    if (error instanceof ApiError && error.fieldErrors.op_column) return setFieldError(opColumn, error.fieldErrors.op_column);
    let message = error instanceof ApiError && [400, 413, 422].includes(error.status) ? error.message : explain(error);
    if (message.includes("NUL bytes")) {
      message = "This file is not plain text: perhaps UTF-16, or a spreadsheet. If it came from Excel, save it as “CSV UTF-8” and upload that.";
    }
    problem.textContent = message;
    problem.hidden = false;
  }

  return { element };
}

/** What the server's 409 too-many-removals says, in words: nothing was written. */
function tooManyRemovals({ removing, present, max_removal: allowed }) {
  const share = present ? removing / present : 1;
  return (
    `This file would remove ${count(removing)} of the group's ${count(present)} entries (${percent(share)}), ` +
    `more than the ${percent(allowed)} allowed: nothing was changed. Check the file is complete, or allow more and upload again.`
  );
}

/** What a finished upload did, told when the person has moved to another screen. */
function done(mode, name, group) {
  if (mode === "replace") return `Replaced “${group}” with ${name}`;
  if (mode === "changes") return `Applied the change list ${name} to “${group}”`;
  return `Imported ${name} into “${group}”`;
}

/** A replace or a change list keeps what was there and may remove; an add updates. */
function factsOf(summary, mode) {
  if (mode === "add") return [["Added", summary.added], ["Updated", summary.updated]];
  return [["Added", summary.added], ["Already there", summary.updated], ["Removed", summary.removed]];
}

function inWords(summary, mode) {
  return factsOf(summary, mode)
    .map(([label, value]) => `${count(value)} ${label.toLowerCase()}`)
    .join(", ");
}

function summarise(name, summary, mode) {
  const facts = [...factsOf(summary, mode), ["Repeated lines", summary.repeats], ["Invalid lines", summary.invalid.length]];
  // Said, because a damaged first number can look like a header and so go unimported.
  const header = summary.header
    ? h("p", { className: "hint" }, `Line ${count(summary.header.line)} was read as column names, not imported: `, h("code", {}, summary.header.cells.join(", ")))
    : null;
  return [
    h("p", { className: "done" }, mode === "replace" ? `Replaced the group with ${name}.` : mode === "changes" ? `Applied the change list ${name}.` : `Imported ${name}.`),
    h("dl", { className: "facts" }, facts.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, count(value))))),
    header,
    summary.invalid.length ? [h("p", {}, `${plural(summary.invalid.length, "line was", "lines were")} skipped:`), invalidTable(summary.invalid, name, summary.invalid.length)] : null,
  ];
}

/** The invalid lines as a CSV file of their own, to fix them in the original. */
function invalidLinesFile(lines, name) {
  const quote = (text) => `"${String(text).replaceAll('"', '""')}"`;
  const rows = lines.map((line) => [line.line, quote(line.input), quote(line.reason)].join(","));
  const blob = new Blob([["line,text,reason", ...rows].join("\r\n") + "\r\n"], { type: "text/csv" });
  const link = h("a", { href: URL.createObjectURL(blob), download: `invalid-lines-of-${name.replace(/\.[^.]*$/, "")}.csv` }, "Download these lines as CSV");
  return link;
}

function invalidTable(lines, name, total) {
  const shown = lines.slice(0, SHOWN_LINES);
  return [
    h(
      "div",
      { className: "table-wrap short" },
      h(
        "table",
        { className: "list" },
        h("caption", { className: "visually-hidden" }, "Invalid lines"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Line"), h("th", { scope: "col" }, "Text"), h("th", { scope: "col" }, "Reason"))),
        h(
          "tbody",
          {},
          shown.map((line) => h("tr", {}, h("td", { "data-label": "Line", className: "num" }, count(line.line)), h("td", { "data-label": "Text" }, h("code", {}, line.input)), h("td", { "data-label": "Reason" }, line.reason))),
        ),
      ),
    ),
    total > shown.length ? h("p", { className: "hint" }, `Showing the first ${count(shown.length)} of ${count(total)}.`) : null,
    h("p", {}, invalidLinesFile(lines, name), total > lines.length ? ` (the first ${count(lines.length)} of ${count(total)})` : ""),
  ];
}
