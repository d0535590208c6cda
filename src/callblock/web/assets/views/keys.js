import { ApiError, call, explain, session } from "../api.js";
import { announce, dialog, field, fill, h, loadingRow, setFieldError, uid } from "../dom.js";
import { focusOn } from "../focus.js";
import { instant } from "../format.js";

const COLUMNS = ["Label", "Scopes", "Starts with", "Created", "Last used", "State", "Action"];

// What each scope lets a key do (docs/api.md, Keys and scopes).
const SCOPES = [
  ["check", "Check", "Check numbers, one or in batches, and follow the change feed. For a dialer, IVR or PBX."],
  ["read", "Read", "Everything that reads: groups, entries, campaigns, history, exports, scrubs. Includes Check."],
  ["write", "Write", "Change groups, entries and campaigns, import files, and use the Cloud Agent endpoints. Includes Read and Check."],
  ["admin", "Admin", "Change the account's settings, and issue and revoke keys (this screen)."],
];

/** The account's API keys: who holds each and what it may do; issuing and revoking. */
export function renderKeys(main) {
  const issue = h("button", { type: "button", className: "primary" }, "Issue a key");
  const body = h("tbody", {}, loadingRow(COLUMNS.length));
  const table = h(
    "table",
    { className: "list", "aria-busy": "true" },
    h("caption", { className: "visually-hidden" }, "API keys"),
    h("thead", {}, h("tr", {}, COLUMNS.map((title) => h("th", { scope: "col" }, title)))),
    body,
  );
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  fill(
    main,
    h("div", { className: "title-row" }, h("h1", { tabindex: "-1" }, "API keys"), issue),
    h(
      "p",
      { className: "lead" },
      "Give each dialer, script and person a key of its own, with only the scopes it needs: the history names the key behind every change, and a key can be revoked without stopping the others.",
    ),
    h("section", { "aria-label": "API keys" }, problem, h("div", { className: "table-wrap" }, table)),
  );

  function row(key) {
    const mine = session()?.key.startsWith(key.prefix);
    const revoke = key.revoked_at
      ? null
      : h("button", { type: "button", className: "danger", "aria-label": `Revoke ${key.label || `key ${key.prefix}…`}` }, "Revoke");
    revoke?.addEventListener("click", async () => {
      if (await revokeKey(key, mine)) {
        announce(`Revoked ${key.label || "the key"}.`);
        await load();
        // Its row, drawn anew, now says since when it is revoked.
        const revoked = body.querySelector(`tr[data-key="${key.id}"]`);
        focusOn(problem.hidden ? revoked || table : problem);
      } else {
        revoke.focus();
      }
    });
    return h(
      "tr",
      { "data-key": String(key.id) },
      h("th", { scope: "row", "data-label": "Label" }, key.label || h("span", { className: "none" }, "No label"), mine ? h("span", { className: "sub" }, "The key you are signed in with") : null),
      h("td", { "data-label": "Scopes" }, key.scopes.join(", ")),
      h("td", { "data-label": "Starts with" }, h("code", {}, `${key.prefix}…`)),
      h("td", { "data-label": "Created" }, instant(key.created_at)),
      h("td", { "data-label": "Last used" }, instant(key.last_used_at)),
      h("td", { "data-label": "State" }, key.revoked_at ? `Revoked ${instant(key.revoked_at)}` : "Active"),
      h("td", { "data-label": "Action" }, revoke),
    );
  }

  async function load() {
    table.setAttribute("aria-busy", "true");
    problem.hidden = true;
    try {
      const answer = await call("GET", "/v1/keys");
      fill(body, answer.data.map(row));
    } catch (error) {
      fill(body);
      problem.textContent =
        error instanceof ApiError && error.status === 403
          ? "The key you signed in with cannot see or issue keys: that needs a key with the Admin scope."
          : explain(error);
      problem.hidden = false;
      issue.disabled = error instanceof ApiError && error.status === 403;
    } finally {
      table.removeAttribute("aria-busy");
    }
  }

  issue.addEventListener("click", async () => {
    const issued = await issueKey();
    if (!issued) return issue.focus();
    await load();
    await showIssued(issued);
    issue.focus();
  });

  load();
}

/** The issue dialog: a label and the scopes; resolves to the new key (with `key`) or null. */
async function issueKey() {
  const label = field({ label: "Label", hint: "Who or what will hold it, as the history will name it: “Dialer, floor 2”." }, h("input", { name: "label", autocomplete: "off", maxlength: "64" }));
  const legend = uid("scopes-legend");
  const scopesError = h("p", { className: "field-error", id: `${legend}-error`, hidden: true });
  const boxes = SCOPES.map(([value, name, hint]) => {
    const id = uid(`scope-${value}`);
    const hintId = `${id}-hint`;
    return {
      box: h("input", { type: "checkbox", name: "scopes", value, id, checked: value === "check", "aria-describedby": `${hintId} ${scopesError.id}` }),
      label: h("label", { for: id }, name),
      hint: h("p", { className: "hint", id: hintId }, hint),
    };
  });
  const scopes = { control: boxes[0].box, controls: boxes.map((b) => b.box), error: scopesError };
  const fieldset = h(
    "fieldset",
    { className: "choices" },
    h("legend", { id: legend }, "Scopes"),
    boxes.map(({ box, label: text, hint }) => h("div", { className: "choice" }, h("div", { className: "check" }, box, text), hint)),
    scopesError,
  );
  let issued = null;
  const outcome = await dialog({
    title: "Issue a key",
    body: [label.wrapper, fieldset],
    confirmLabel: "Issue key",
    onConfirm: async () => {
      setFieldError(label, "");
      setFieldError(scopes, "");
      const chosen = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
      if (chosen.length === 0) {
        setFieldError(scopes, "Tick at least one scope.");
        boxes[0].box.focus();
        return "Fix the fields marked above.";
      }
      try {
        issued = await call("POST", "/v1/keys", { json: { label: label.control.value.trim(), scopes: chosen } });
        return "";
      } catch (error) {
        const errors = error instanceof ApiError ? error.fieldErrors : {};
        if (errors.label) setFieldError(label, errors.label);
        if (errors.scopes) setFieldError(scopes, errors.scopes);
        if (errors.label || errors.scopes) (errors.label ? label : scopes).control.focus();
        return errors.label || errors.scopes ? "Fix the fields marked above." : explain(error);
      }
    },
  });
  return outcome ? issued : null;
}

/** The new key, shown this once, with a button that copies it. */
async function showIssued(issued) {
  const keyField = field(
    { label: "The new key", hint: "Copy it now: it is shown this once, and only its first characters are kept." },
    h("input", { name: "key", readonly: true, value: issued.key, className: "key-text", spellcheck: "false" }),
  );
  const copied = h("p", { className: "hint", role: "status" });
  const copy = h("button", { type: "button" }, "Copy key");
  copy.addEventListener("click", async () => {
    keyField.control.select();
    try {
      await navigator.clipboard.writeText(issued.key);
      copied.textContent = "Copied.";
      copy.focus(); // selecting the key took the focus: back where the person is
    } catch {
      copied.textContent = "Selected: press Ctrl+C (⌘C) to copy it.";
    }
  });
  const body = [
    h("p", {}, `${issued.label || "The key"} may ${issued.scopes.join(", ")}.`),
    keyField.wrapper,
    h("div", { className: "row" }, copy, copied),
  ];
  const shown = dialog({ title: "Key issued", body, confirmLabel: "Done" });
  keyField.control.focus();
  keyField.control.select();
  await shown;
}

/** Ask, then revoke; resolves true once it is revoked. */
async function revokeKey(key, mine) {
  const name = key.label ? `“${key.label}”` : `the key ${key.prefix}…`;
  const outcome = await dialog({
    title: `Revoke ${name}?`,
    body: h(
      "p",
      {},
      mine
        ? "This is the key you are signed in with: the page will ask you to sign in again with another. "
        : "",
      "Whatever uses this key will be refused on every server within a second or two, and so will the tokens made with it. This cannot be undone.",
    ),
    confirmLabel: "Revoke key",
    danger: true,
    onConfirm: async () => {
      try {
        await call("DELETE", `/v1/keys/${key.id}`);
        return "";
      } catch (error) {
        return error instanceof ApiError && error.status === 404 ? "" : explain(error);
      }
    },
  });
  return outcome === "confirm";
}
