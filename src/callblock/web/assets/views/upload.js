import { ApiError, explain, upload } from "../api.js";
import { announce, field, fill, GROUPS_CHANGED, h, setFieldError } from "../dom.js";
import { count, plural } from "../format.js";
import { limits } from "../limits.js";

const SHOWN_LINES = 200; // of the invalid lines; the summary gives their total

/**
 * Upload a CSV or text file (gzip too) into a group, with progress and a summary.
 * groupName() names the group for a notice given elsewhere, if the person moved on meanwhile.
 */
export function uploadForm(groupId, onChanged, groupName) {
  const file = field(
    { label: "CSV or text file", hint: "A number per line, or a CSV with a phone or number column. .gz files too." },
    h("input", { type: "file", name: "file", accept: ".csv,.txt,.gz,text/csv,text/plain,application/gzip" }),
  );
  const skip = h("input", { type: "checkbox", name: "skip_invalid", checked: true, id: `skip-${groupId}` });
  const skipField = h(
    "div",
    { className: "check" },
    skip,
    h("label", { for: skip.id }, "Import the valid lines even if some are invalid"),
  );
  const column = field({ label: "Number column (optional)", hint: "Its header, or its position (1 is the first). Found by itself when empty." }, h("input", { name: "column", maxlength: limits.column_max, autocomplete: "off" }));
  const expiryColumn = field({ label: "Expiry column (optional)", hint: "Its header or position. Each row's expiry: 2030-01-31T18:00:00+05:30, or 2030-01-31 18:00:00 in the account's time zone." }, h("input", { name: "expiry_column", maxlength: limits.column_max, autocomplete: "off" }));
  const more = h("details", {}, h("summary", {}, "Columns"), column.wrapper, expiryColumn.wrapper);

  const bar = h("progress", { max: "100", "aria-labelledby": `progress-${groupId}` });
  const barLabel = h("span", { id: `progress-${groupId}` }, "");
  const progress = h("div", { className: "progress", hidden: true }, barLabel, bar);
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const result = h("div", { className: "upload-result", role: "status" });
  const submit = h("button", { type: "submit", className: "primary" }, "Upload");
  const cancel = h("button", { type: "button", hidden: true }, "Cancel upload");
  const element = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": `upload-title-${groupId}` },
    h("h2", { id: `upload-title-${groupId}` }, "Upload a file"),
    file.wrapper,
    skipField,
    more,
    progress,
    problem,
    result,
    h("div", { className: "actions start" }, submit, cancel),
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
    setFieldError(file, "");
    problem.hidden = true;
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
    submit.disabled = true;
    cancel.hidden = false;
    showProgress(0, chosen.size);
    const query = { skip_invalid: skip.checked ? "true" : "false", column: column.control.value.trim(), expiry_column: expiryColumn.control.value.trim() };
    running = upload(`/v1/groups/${groupId}/numbers:import`, query, chosen, showProgress);
    window.addEventListener("beforeunload", holdPage);
    try {
      const summary = await running.done;
      fill(result, summarise(chosen.name, summary));
      if (!element.isConnected) {
        // The person went to another screen meanwhile: the import still landed; say so.
        announce(`Imported ${chosen.name} into “${groupName()}”: ${count(summary.added)} added, ${count(summary.updated)} updated, ${plural(summary.invalid.length, "invalid line", "invalid lines")} skipped.`);
        window.dispatchEvent(new CustomEvent(GROUPS_CHANGED));
      }
      await onChanged();
    } catch (error) {
      showFailure(error, chosen.name);
      if (!element.isConnected && !(error instanceof ApiError && error.status === -1)) {
        announce(`The upload of ${chosen.name} into “${groupName()}” failed: ${explain(error)}`);
      }
    } finally {
      window.removeEventListener("beforeunload", holdPage);
      running = null;
      submit.disabled = false;
      cancel.hidden = true;
      progress.hidden = true;
    }
  });

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
    if (error instanceof ApiError && error.fieldErrors.column) return setFieldError(column, error.fieldErrors.column);
    if (error instanceof ApiError && error.fieldErrors.expiry_column) return setFieldError(expiryColumn, error.fieldErrors.expiry_column);
    let message = error instanceof ApiError && [400, 413, 422].includes(error.status) ? error.message : explain(error);
    if (message.includes("NUL bytes")) {
      message = "This file is not plain text: perhaps UTF-16, or a spreadsheet. If it came from Excel, save it as “CSV UTF-8” and upload that.";
    }
    problem.textContent = message;
    problem.hidden = false;
  }

  return { element };
}

function summarise(name, summary) {
  const facts = [
    ["Added", summary.added],
    ["Updated", summary.updated],
    ["Repeated lines", summary.repeats],
    ["Invalid lines", summary.invalid.length],
  ];
  // Said, because a damaged first number can look like a header and so go unimported.
  const header = summary.header
    ? h("p", { className: "hint" }, `Line ${count(summary.header.line)} was read as column names, not imported: `, h("code", {}, summary.header.cells.join(", ")))
    : null;
  return [
    h("p", { className: "done" }, `Imported ${name}.`),
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
