// Building the page's elements. Text always goes in as text, never as markup: a group name
// or a note is whatever a user typed.

let nextId = 0;

/** Dispatched on window when groups changed while their screen was not showing. */
export const GROUPS_CHANGED = "callblock:groups-changed";

/** A fresh id for tying a label or an error message to its field. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * h("button", {type: "button", onclick: f}, "Save"): an element with its attributes,
 * listeners (on...) and children (elements, strings, or nothing).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) {
      element.addEventListener(name.slice(2), value);
    } else if (name === "className") {
      element.className = value;
    } else if (name in element && typeof value !== "string") {
      element[name] = value; // properties such as value, checked, hidden
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The row a table shows until its first page arrives. */
export function loadingRow(columns) {
  return h("tr", {}, h("td", { colspan: String(columns), className: "empty" }, "Loading…"));
}

/** Replace an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * A labelled form control with a place for its error, tied together for screen readers:
 * field({label, name, hint}, control) → {wrapper, control, error}.
 */
export function field({ label, hint }, control) {
  const id = control.id || uid("field");
  control.id = id;
  const error = h("p", { className: "field-error", id: `${id}-error`, hidden: true });
  const described = [`${id}-error`];
  let hintElement = null;
  if (hint) {
    hintElement = h("p", { className: "hint", id: `${id}-hint` }, hint);
    described.unshift(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  const wrapper = h("div", { className: "field" }, h("label", { for: id }, label), hintElement, control, error);
  return { wrapper, control, error };
}

/**
 * A labelled checkbox, its label beside it, with a hint and a place for its error:
 * checkField({label, hint}) → {wrapper, control, error}, as field() answers.
 */
export function checkField({ label, hint }, attributes = {}) {
  const control = h("input", { type: "checkbox", ...attributes, id: attributes.id || uid("check") });
  const error = h("p", { className: "field-error", id: `${control.id}-error`, hidden: true });
  const described = [error.id];
  let hintElement = null;
  if (hint) {
    hintElement = h("p", { className: "hint", id: `${control.id}-hint` }, hint);
    described.unshift(hintElement.id);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  const wrapper = h("div", { className: "check-field" }, h("div", { className: "check" }, control, h("label", { for: control.id }, label)), hintElement, error);
  return { wrapper, control, error };
}

/**
 * Show (or, with no message, clear) a field's error next to it. An entry with `controls`
 * (a group of checkboxes) marks each of them.
 */
export function setFieldError(entry, message) {
  entry.error.hidden = !message;
  entry.error.textContent = message || "";
  for (const control of entry.controls || [entry.control]) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

const statusRegion = () => document.getElementById("status");

/** Say something briefly, to the eye and to a screen reader. */
export function announce(message) {
  // The region stays in the page, empty when quiet: a live region added or unhidden at the
  // moment it speaks is not read out by every screen reader.
  const region = statusRegion();
  region.textContent = message;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    region.textContent = "";
  }, 6000);
}

/**
 * A modal dialog; resolves with the button's value ("confirm") or "" when dismissed.
 * body: elements to show; the form's fields are read by the caller before it closes.
 */
export function dialog({ title, body, confirmLabel, danger = false, onConfirm }) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const opener = document.activeElement; // where the focus goes back to, unless moved on
    const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
    const confirm = h("button", { type: "submit", className: danger ? "danger" : "primary" }, confirmLabel);
    const cancel = h("button", { type: "button" }, "Cancel");
    const form = h("form", { method: "dialog", novalidate: true }, h("h2", { id: titleId }, title), body, problem, h("div", { className: "actions" }, cancel, confirm));
    const element = h("dialog", { "aria-labelledby": titleId }, form);
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      element.close();
      element.remove();
      if (opener instanceof HTMLElement && opener.isConnected && opener !== document.body) opener.focus();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(""));
    element.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish("");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!onConfirm) return finish("confirm");
      confirm.disabled = true;
      problem.hidden = true;
      try {
        const message = await onConfirm();
        if (message) {
          problem.textContent = message;
          problem.hidden = false;
        } else {
          finish("confirm");
        }
      } finally {
        confirm.disabled = false;
        // The confirm button, disabled while it ran, lost the focus: a field in error has
        // taken it back by now, or else the message takes it.
        if (!settled && !element.contains(document.activeElement)) problem.focus();
      }
    });
    document.body.append(element);
    element.showModal();
  });
}

/**
 * A listing in pages, fetched by cursor: Previous and Next buttons and the position, for a
 * table (marked busy while a page loads). fetchPage(cursor) resolves to a /v1 page
 * ({data, count, next_cursor}); show(page) draws it; showError(error) tells of a failure.
 * The buttons wait for the page they asked for, so quick clicks never skip a cursor. With
 * `twice`, a second set of buttons follows the table (`elements` holds both; `element` the
 * first). After a page turn the focus moves to its outcome, never to the page body: the
 * position ("101–200 of 250", between Previous and Next), or with `focusFirst` the first
 * control of the page shown; `problem`, the message showError fills, when the page failed.
 */
export function pagedListing({ label, pageSize, table, fetchPage, show, showError, twice = false, focusFirst = false, problem = null }) {
  const pagers = (twice ? [label, `${label}, after the list`] : [label]).map((name, index) => {
    const previous = h("button", { type: "button", disabled: true }, "Previous page");
    const next = h("button", { type: "button", disabled: true }, "Next page");
    // One position speaks when it changes; the other repeats it for the eye.
    const position = h("span", { className: "position", tabindex: "-1", "aria-live": index === 0 ? "polite" : null });
    const element = h("nav", { className: "pager", "aria-label": name }, previous, position, next);
    return { previous, next, position, element };
  });
  let cursors = [null];
  let page = 0;
  let ticket = 0; // a slower, older answer must not overwrite a newer one
  let busy = false;
  let shown = null; // the page on screen, as the server answered it

  // While a page loads, the buttons say so but stay enabled: disabling a focused button
  // would drop the focus to the page body.
  function settle() {
    for (const { previous, next } of pagers) {
      previous.disabled = page === 0;
      next.disabled = !cursors[page + 1];
      previous.removeAttribute("aria-disabled");
      next.removeAttribute("aria-disabled");
    }
  }

  async function load(target, turned = false) {
    const mine = ++ticket;
    busy = true;
    for (const { previous, next } of pagers) {
      previous.setAttribute("aria-disabled", "true");
      next.setAttribute("aria-disabled", "true");
    }
    table.setAttribute("aria-busy", "true");
    try {
      const answer = await fetchPage(cursors[target]);
      if (mine !== ticket) return;
      if (answer.data.length === 0 && target > 0) return load(target - 1, turned); // emptied by a removal
      page = target;
      cursors = [...cursors.slice(0, target + 1), answer.next_cursor];
      shown = answer;
      show(answer);
      const first = page * pageSize;
      const where =
        answer.data.length === 0
          ? "Nothing to show"
          : `${(first + 1).toLocaleString()}–${(first + answer.data.length).toLocaleString()} of ${answer.count.toLocaleString()}`;
      for (const { position } of pagers) position.textContent = where;
    } catch (error) {
      if (mine !== ticket) return;
      showError(error);
    } finally {
      if (mine === ticket) {
        busy = false;
        table.removeAttribute("aria-busy");
        settle();
        if (turned) focusShownPage();
      }
    }
  }

  function focusShownPage() {
    if (problem && !problem.hidden) {
      problem.setAttribute("tabindex", "-1");
      return problem.focus();
    }
    const reachable = focusFirst ? table.querySelector("tbody :is(a, button, input):not([tabindex='-1']):not(:disabled)") : null;
    (reachable || pagers[0].position).focus();
  }

  for (const { previous, next } of pagers) {
    previous.addEventListener("click", () => !busy && page > 0 && load(page - 1, true));
    next.addEventListener("click", () => !busy && cursors[page + 1] && load(page + 1, true));
  }
  return {
    element: pagers[0].element,
    elements: pagers.map((pager) => pager.element),
    /** From the first page (the filters changed). */
    restart: () => {
      cursors = [null];
      return load(0);
    },
    /** The page on screen again (its entries changed). */
    reload: () => load(page),
    /** The page on screen drawn again from what the server said (what it refers to changed). */
    redraw: () => shown && show(shown),
  };
}

/**
 * The controls in a table's body as one Tab stop: Tab reaches the current one, the arrow
 * keys move between rows (Up, Down, Home, End, Page Up, Page Down) and along a row (Left,
 * Right). Call `refresh()` after drawing rows; `focusRow(row)` moves there.
 */
export function rovingControls(body) {
  const CONTROLS = "input, button, a[href]";
  let current = null;
  const rows = () => [...body.rows].filter((row) => row.querySelector(CONTROLS));
  const controlsOf = (row) => [...row.querySelectorAll(CONTROLS)];

  function make(control) {
    for (const each of body.querySelectorAll(CONTROLS)) each.tabIndex = -1;
    current = control;
    if (control) control.tabIndex = 0;
  }

  body.addEventListener("focusin", (event) => {
    if (event.target.matches(CONTROLS)) make(event.target);
  });
  body.addEventListener("keydown", (event) => {
    const control = event.target;
    if (!control.matches(CONTROLS) || event.altKey || event.ctrlKey || event.metaKey) return;
    const all = rows();
    const row = control.closest("tr");
    const rowAt = all.indexOf(row);
    const column = controlsOf(row).indexOf(control);
    let target = null;
    const inRow = (index) => {
      const found = all[Math.max(0, Math.min(all.length - 1, index))];
      const controls = controlsOf(found);
      return controls[Math.min(column, controls.length - 1)];
    };
    switch (event.key) {
      case "ArrowDown": target = inRow(rowAt + 1); break;
      case "ArrowUp": target = inRow(rowAt - 1); break;
      case "PageDown": target = inRow(rowAt + 10); break;
      case "PageUp": target = inRow(rowAt - 10); break;
      case "Home": target = inRow(0); break;
      case "End": target = inRow(all.length - 1); break;
      case "ArrowRight": target = controlsOf(row)[column + 1] || null; break;
      case "ArrowLeft": target = controlsOf(row)[column - 1] || null; break;
      default: return;
    }
    event.preventDefault();
    if (target) target.focus();
  });

  return {
    /** After the rows were drawn: the same place if it is still there, else the first. */
    refresh() {
      const kept = current && body.contains(current) ? current : null;
      make(kept || body.querySelector(CONTROLS));
    },
    /** Focus a row's control in the column now current (its first, without one). */
    focusRow(row) {
      const controls = controlsOf(row);
      const column = current && current.closest("tr") ? Math.max(0, controlsOf(current.closest("tr")).indexOf(current)) : 0;
      const target = controls[Math.min(column, controls.length - 1)];
      if (target) target.focus();
    },
  };
}
