import { ApiError, call, explain } from "../api.js";
import { field, fill, h, setFieldError } from "../dom.js";
import { instant, RULES } from "../format.js";

/** Is this number blocked, and by what? */
export function renderCheck(main, { number = "" } = {}) {
  const input = field(
    { label: "Phone number", hint: "Any common form: 09876543210, +91 98765 43210…" },
    h("input", { name: "number", type: "tel", autocomplete: "off", spellcheck: "false" }),
  );
  const direction = field(
    { label: "Call direction" },
    h(
      "select",
      { name: "direction" },
      h("option", { value: "" }, "Any (every group)"),
      h("option", { value: "outbound" }, "Outbound: we are calling it"),
      h("option", { value: "inbound" }, "Inbound: it is calling us"),
    ),
  );
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const result = h("div", { className: "check-result", "aria-live": "polite" });
  const submit = h("button", { type: "submit", className: "primary" }, "Check");
  const form = h("form", { className: "card", novalidate: true, "aria-label": "Check a number" }, h("div", { className: "row" }, input.wrapper, direction.wrapper), problem, submit);
  fill(main, h("h1", { tabindex: "-1" }, "Check a number"), form, result);
  input.control.value = number;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(input, "");
    problem.hidden = true;
    fill(result); // an earlier answer must not sit beside this question
    const typed = input.control.value.trim();
    if (!typed) {
      setFieldError(input, "Type a number.");
      input.control.focus();
      return;
    }
    submit.disabled = true;
    try {
      const answer = await call("GET", `/v1/check/${encodeURIComponent(typed)}`, { query: { direction: direction.control.value } });
      fill(result, verdict(typed, answer));
    } catch (error) {
      // 404: the text made a path no route has ("98765/43210"): not a number either.
      if (error instanceof ApiError && (error.status === 422 || error.status === 404)) {
        setFieldError(input, "Not a valid phone number.");
        input.control.focus();
      } else {
        problem.textContent = explain(error);
        problem.hidden = false;
      }
    } finally {
      submit.disabled = false;
    }
  });
}

function verdict(typed, answer) {
  const shown = answer.number || typed;
  if (!answer.blocked) {
    return h("div", { className: "verdict clear" }, h("p", { className: "big" }, "Not blocked"), h("p", {}, `${shown} matches no active entry.`));
  }
  return h(
    "div",
    { className: "verdict blocked" },
    h("p", { className: "big" }, "Blocked"),
    h("p", {}, `${shown} is blocked by ${answer.matches.length === 1 ? "this match" : `these ${answer.matches.length} matches`}:`),
    h(
      "div",
      { className: "table-wrap" },
      h(
        "table",
        { className: "list" },
        h("caption", { className: "visually-hidden" }, "Matches"),
        h("thead", {}, h("tr", {}, ["Group", "Matched", "Rule", "Expires"].map((title) => h("th", { scope: "col" }, title)))),
        h(
          "tbody",
          {},
          answer.matches.map((match) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", "data-label": "Group" }, match.group_id ? h("a", { href: `#/groups/${match.group_id}` }, match.group_name) : "Account setting"),
              h("td", { "data-label": "Matched" }, h("code", {}, match.pattern)),
              h("td", { "data-label": "Rule" }, RULES[match.rule] || match.rule),
              h("td", { "data-label": "Expires" }, instant(match.expires_at)),
            ),
          ),
        ),
      ),
    ),
  );
}
