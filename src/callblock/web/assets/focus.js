// Where focus goes once an action is done: on what it changed, or on the message that tells how
// it ended. A button disabled while its request runs loses the focus (the browser moves it to
// the page itself), and a dialog that closes leaves it nowhere: the views put it back here.

/**
 * Focus an element that is not a control (a message, a table, a row): it becomes focusable by
 * script only (tabindex="-1"), never a stop of the Tab key.
 */
export function focusOn(element) {
  if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
  element.focus();
}
