import { ApiError, explain, signIn } from "../api.js";
import { field, fill, h, setFieldError, uid } from "../dom.js";
import { focusOn } from "../focus.js";

const KEY_HINT = "Starts with cbk_. It is kept in this tab only, until you sign out or close it. Lost it? On the server, callblock account key USERNAME makes a new one.";

// What had the focus last on the page, outside the dialog that asks to sign in again: where the
// focus goes back once signed in again. (A button disabled while its refused request ran has
// lost the focus to the page itself, and is remembered all the same.)
let lastFocused = null;
document.addEventListener("focusin", (event) => {
  if (!event.target.closest?.("dialog.signin-again")) lastFocused = event.target;
});

/** Focus back on what was in use before the key was refused; else on the screen's heading. */
function returnFocus() {
  if (lastFocused?.isConnected && !lastFocused.disabled) {
    lastFocused.focus();
    if (document.activeElement === lastFocused) return;
  }
  const open = document.querySelector("dialog[open]"); // a dialog the refusal came from
  (open ? open.querySelector("[type=submit]") : document.querySelector("main h1"))?.focus();
}

/** The username and key fields and their checks; onSignedIn(account, username) once accepted. */
function signInForm({ username: known = "", onSignedIn, extra = [] }) {
  const titleId = uid("signin");
  const username = field({ label: "Username" }, h("input", { name: "username", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "none" }));
  const key = field({ label: "API key", hint: KEY_HINT }, h("input", { name: "key", type: "password", autocomplete: "current-password", required: true, spellcheck: "false" }));
  username.control.value = known;
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", className: "primary" }, "Sign in");
  const form = h("form", { className: "card narrow", novalidate: true, "aria-labelledby": titleId }, username.wrapper, key.wrapper, problem, h("div", { className: "actions start" }, submit, extra));

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
      onSignedIn(await signIn(name, secret), name);
    } catch (error) {
      const refused = error instanceof ApiError && error.status === 401;
      problem.textContent = refused ? "Wrong username or API key." : explain(error);
      problem.hidden = false;
      if (refused) {
        key.control.focus(); // the key to type again, selected
        key.control.select();
      } else {
        focusOn(problem);
      }
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });
  return { form, titleId, focus: () => (known ? key : username).control.focus() };
}

/** The sign-in page; onSignedIn(account) once the server accepts the key. */
export function renderSignIn(main, { message, onSignedIn }) {
  const { form, titleId, focus } = signInForm({ onSignedIn });
  fill(
    main,
    h("h1", { id: titleId, tabindex: "-1" }, "Sign in"),
    h("p", { className: "lead" }, "Manage your block-number groups. Sign in with your callblock username and an API key."),
    message ? h("p", { className: "notice", role: "status" }, message) : null,
    form,
  );
  focus();
}

/**
 * The key stopped working in the middle of something (revoked, say): sign in again over the
 * page, so that whatever was typed on it, in a form or an open dialog, is still there after.
 * onSignedIn(sameUser) once back in; onSignOut() if the person gives up instead.
 */
export function signInAgain(message, username, { onSignedIn, onSignOut }) {
  const signOut = h("button", { type: "button" }, "Sign out");
  let element;
  const { form, titleId, focus } = signInForm({
    username,
    extra: [signOut],
    onSignedIn: (_account, name) => {
      element.close();
      element.remove();
      onSignedIn(name === username);
      if (name === username) returnFocus(); // another account's page is drawn anew
    },
  });
  element = h("dialog", { className: "signin-again", "aria-labelledby": titleId }, h("h2", { id: titleId }, "Sign in again"), h("p", { className: "notice" }, message, " What you typed on the page is kept."), form);
  signOut.addEventListener("click", () => {
    element.close();
    element.remove();
    onSignOut();
  });
  element.addEventListener("cancel", (event) => event.preventDefault()); // sign in, or sign out
  document.body.append(element);
  element.showModal();
  focus();
}
