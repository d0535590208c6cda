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
    const problem = h("p", { className: "form-error", role: "alert", hidden: true });
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
 * The buttons wait for the page they asked for, so quick clicks never skip a cursor.
 */
export function pagedListing({ label, pageSize, table, fetchPage, show, showError }) {
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const position = h("span", { className: "position", "aria-live": "polite" });
  const element = h("nav", { className: "pager", "aria-label": label }, previous, position, next);
  let cursors = [null];
  let page = 0;
  let ticket = 0; // a slower, older answer must not overwrite a newer one
  let shown = null; // the page on screen, as the server answered it

  function settle() {
    previous.disabled = page === 0;
    next.disabled = !cursors[page + 1];
  }

  async function load(target) {
    const mine = ++ticket;
    previous.disabled = true;
    next.disabled = true;
    table.setAttribute("aria-busy", "true");
    try {
      const answer = await fetchPage(cursors[target]);
      if (mine !== ticket) return;
      if (answer.data.length === 0 && target > 0) return load(target - 1); // emptied by a removal
      page = target;
      cursors = [...cursors.slice(0, target + 1), answer.next_cursor];
      shown = answer;
      show(answer);
      const first = page * pageSize;
      position.textContent =
        answer.data.length === 0
          ? "Nothing to show"
          : `${(first + 1).toLocaleString()}–${(first + answer.data.length).toLocaleString()} of ${answer.count.toLocaleString()}`;
    } catch (error) {
      if (mine !== ticket) return;
      showError(error);
    } finally {
      if (mine === ticket) {
        table.removeAttribute("aria-busy");
        settle();
      }
    }
  }

  previous.addEventListener("click", () => load(page - 1));
  next.addEventListener("click", () => load(page + 1));
  return {
    element,
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
