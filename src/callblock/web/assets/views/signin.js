import { ApiError, explain, signIn } from "../api.js";
import { field, fill, h, setFieldError } from "../dom.js";

/** The sign-in form; onSignedIn(account) once the server accepts the key. */
export function renderSignIn(main, { message, onSignedIn }) {
  const username = field({ label: "Username" }, h("input", { name: "username", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "none" }));
  const key = field(
    { label: "API key", hint: "Starts with cbk_. It is kept in this tab only, until you sign out or close it." },
    h("input", { name: "key", type: "password", autocomplete: "current-password", required: true, spellcheck: "false" }),
  );
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", className: "primary" }, "Sign in");
  const form = h("form", { className: "card narrow", novalidate: true, "aria-labelledby": "signin-title" }, username.wrapper, key.wrapper, problem, submit);
  fill(
    main,
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    h("p", { className: "lead" }, "Manage your block-number groups. Sign in with your callblock username and an API key."),
    message ? h("p", { className: "notice", role: "status" }, message) : null,
    form,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const name = username.control.value.trim();
    const secret = key.control.value.trim();
    setFieldError(username, name ? "" : "Type your username.");
    setFieldError(key, secret ? "" : "Paste your API key.");
    if (!name || !secret) {
      (name ? key : username).control.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      onSignedIn(await signIn(name, secret));
    } catch (error) {
      problem.textContent = explain(error);
      problem.hidden = false;
      if (error instanceof ApiError && error.status === 401) key.control.select();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });
  username.control.focus();
}
