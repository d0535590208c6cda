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

/**
 * After Previous or Next page of a paged listing (dom.js, pagedListing), whose buttons are
 * disabled while the page loads, focus lands on the position the new page shows ("51–100 of
 * 120"), between the two buttons; or on `problem` when the page could not be had.
 */
export function focusAfterPaging(pages, table, problem = null) {
  const position = pages.element.querySelector(".position");
  let asked = false;
  pages.element.addEventListener("click", (event) => {
    if (event.target.closest("button")) asked = true;
  });
  // The listing marks the table busy while a page loads, and unmarks it once it is drawn.
  new MutationObserver(() => {
    if (!asked || table.hasAttribute("aria-busy")) return;
    asked = false;
    focusOn(problem && !problem.hidden ? problem : position);
  }).observe(table, { attributes: true, attributeFilter: ["aria-busy"] });
}
