import { ApiError, call, explain } from "../api.js";
import { announce, field, fill, h } from "../dom.js";
import { focusOn } from "../focus.js";
import { count, describeWindow, instant, KINDS, SCOPES } from "../format.js";
import { deleteCampaign, editCampaign, windowFields } from "./campaign_forms.js";
import { showErrors } from "./group_forms.js";

const GROUP_PAGES = 10; // of 1,000 groups each, for the picker

/** Every group of the account (up to GROUP_PAGES pages), by name. */
async function allGroups() {
  const groups = [];
  let cursor = null;
  for (let page = 0; page < GROUP_PAGES; page += 1) {
    const answer = await call("GET", "/v1/groups", { query: { limit: 1000, cursor } });
    groups.push(...answer.data);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return groups.sort((a, b) => a.name.localeCompare(b.name));
}

/** "block, global, consent overrides": what a group is, in the picker's words. */
function traits(group) {
  const words = [(KINDS[group.kind] || group.kind).toLowerCase(), (SCOPES[group.scope] || group.scope).toLowerCase()];
  if (group.consent_overrides) words.push("consent overrides");
  return words.join(", ");
}

/** One campaign: its calling hours, the groups attached to it, and changing or deleting it. */
export function renderCampaign(main, { id, go }) {
  const heading = h("h1", { tabindex: "-1" }, "Campaign");
  const summary = h("div", { className: "summary" });
  const headProblem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const editButton = h("button", { type: "button", disabled: true }, "Change name or description");
  const deleteButton = h("button", { type: "button", className: "danger", disabled: true }, "Delete campaign");
  const checkLink = h("a", { href: `#/check?campaign=${id}` }, "Check a number for this campaign");
  const body = h("div", {}, h("p", {}, "Loading…"));
  fill(
    main,
    h("p", { className: "crumbs" }, h("a", { href: "#/campaigns" }, "← All campaigns")),
    heading,
    summary,
    h("div", { className: "toolbar" }, editButton, deleteButton, checkLink),
    headProblem,
    body,
  );

  let campaign = null;
  let groups = [];
  let hours = null;
  let hoursFact = null; // the calling hours in the summary, where saving them shows
  const picker = field(
    { label: "Group", hint: "Block groups it must obey, allow groups whose consent lifts the blocks that consent overrides." },
    h("select", { name: "group_id" }),
  );
  const attachButton = h("button", { type: "submit", className: "primary" }, "Attach");
  const attachProblem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const windowProblem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const windowCard = h("div", { className: "window-slot" });
  const saveWindow = h("button", { type: "submit", className: "primary" }, "Save calling hours");
  const attachedBody = h("tbody");
  const globalNote = h("p", { className: "hint" });

  const windowForm = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": "hours-title" },
    h("h2", { id: "hours-title" }, "Calling hours"),
    windowCard,
    windowProblem,
    saveWindow,
  );
  const attachForm = h(
    "form",
    { className: "card", novalidate: true, "aria-labelledby": "attach-title" },
    h("h2", { id: "attach-title" }, "Attach a group"),
    picker.wrapper,
    attachProblem,
    attachButton,
  );
  const attachedTable = h(
    "table",
    { className: "list" },
    h("caption", { className: "visually-hidden" }, "Groups attached to this campaign"),
    h("thead", {}, h("tr", {}, ["Group", "Kind", "Scope", "Actions"].map((title) => h("th", { scope: "col" }, title)))),
    attachedBody,
  );
  const attachedSection = h(
    "section",
    { "aria-labelledby": "attached-title" },
    h("h2", { id: "attached-title" }, "Attached groups"),
    globalNote,
    h("div", { className: "table-wrap" }, attachedTable),
  );

  function showHead() {
    document.title = `${campaign.name} · callblock`;
    heading.textContent = campaign.name;
    fill(
      summary,
      campaign.description ? h("p", { className: "lead" }, campaign.description) : null,
      h(
        "dl",
        { className: "facts" },
        (hoursFact = h("div", {}, h("dt", {}, "Calling hours"), h("dd", {}, describeWindow(campaign.calling_window)))),
        h("div", {}, h("dt", {}, "Block groups"), h("dd", {}, count(campaign.block_groups.length))),
        h("div", {}, h("dt", {}, "Allow groups"), h("dd", {}, count(campaign.allow_groups.length))),
        h("div", {}, h("dt", {}, "Last change"), h("dd", {}, instant(campaign.updated_at))),
      ),
    );
  }

  function showGroups() {
    const attached = [...campaign.block_groups.map((g) => ({ ...g, kind: "block" })), ...campaign.allow_groups.map((g) => ({ ...g, kind: "allow" }))];
    const attachedIds = new Set(attached.map((g) => g.id));
    fill(
      attachedBody,
      attached.length
        ? attached.map(attachedRow)
        : h("tr", {}, h("td", { colspan: "4", className: "empty" }, "No group is attached: the campaign obeys the global groups only.")),
    );
    const globals = groups.filter((g) => g.scope === "global" && !attachedIds.has(g.id));
    globalNote.textContent = globals.length
      ? `Global groups count in this campaign too, attached or not: ${globals.map((g) => `${g.name} (${g.kind})`).join(", ")}.`
      : "The account has no global group: only the attached groups count.";
    const free = groups.filter((g) => !attachedIds.has(g.id));
    const options = ["block", "allow"].map((kind) => {
      const ofKind = free.filter((g) => g.kind === kind);
      return ofKind.length
        ? h("optgroup", { label: kind === "block" ? "Block groups" : "Allow groups" }, ofKind.map((g) => h("option", { value: String(g.id) }, `${g.name} — ${traits(g)}`)))
        : null;
    });
    fill(picker.control, free.length ? options : h("option", { value: "" }, "Every group is attached"));
    picker.control.disabled = free.length === 0;
    attachButton.disabled = free.length === 0;
  }

  function attachedRow(group) {
    const detach = h("button", { type: "button", "aria-label": `Detach ${group.name}` }, "Detach");
    detach.addEventListener("click", async () => {
      detach.disabled = true;
      headProblem.hidden = true;
      try {
        campaign = await call("DELETE", `/v1/campaigns/${id}/groups/${group.id}`);
      } catch (error) {
        detach.disabled = false;
        return failed(error, headProblem);
      }
      showHead();
      showGroups();
      announce(`Detached “${group.name}”: the campaign no longer obeys it${group.scope === "global" ? " as attached (it is global, so it still counts)" : ""}.`);
      picker.control.focus(); // where the group is offered again
    });
    return h(
      "tr",
      {},
      h("th", { scope: "row", "data-label": "Group" }, h("a", { href: `#/groups/${group.id}`, "data-group": String(group.id) }, group.name)),
      h("td", { "data-label": "Kind" }, KINDS[group.kind] || group.kind, group.consent_overrides ? h("span", { className: "sub" }, "consent overrides") : null),
      h("td", { "data-label": "Scope" }, SCOPES[group.scope] || group.scope),
      h("td", { "data-label": "Actions" }, h("div", { className: "actions" }, detach)),
    );
  }

  function gone() {
    fill(main, h("h1", { tabindex: "-1" }, "No such campaign"), h("p", {}, "It may have been deleted."), h("p", {}, h("a", { href: "#/campaigns" }, "Back to all campaigns")));
    main.querySelector("h1").focus();
  }

  /** A failed call: a campaign gone says so; anything else is told in `where`, focused. */
  function failed(error, where, message = explain(error)) {
    if (error instanceof ApiError && error.status === 404 && error.problem.type?.endsWith("campaign-not-found")) return gone();
    where.textContent = message;
    where.hidden = false;
    focusOn(where);
  }

  attachForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    attachProblem.hidden = true;
    const groupId = Number(picker.control.value);
    if (!groupId) return;
    const chosen = groups.find((g) => g.id === groupId);
    attachButton.disabled = true;
    try {
      campaign = await call("POST", `/v1/campaigns/${id}/groups`, { json: { group_ids: [groupId] } });
    } catch (error) {
      attachButton.disabled = false;
      // 422: the group went away meanwhile (deleted elsewhere): offer what is there now.
      if (error instanceof ApiError && error.status === 422) {
        groups = await allGroups().catch(() => groups);
        showGroups();
      }
      return failed(error, attachProblem);
    }
    showHead();
    showGroups();
    announce(`Attached “${chosen?.name ?? groupId}”.`);
    attachedBody.querySelector(`a[data-group="${groupId}"]`)?.focus(); // the row it now has
  });

  windowForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    windowProblem.hidden = true;
    const window = hours.read();
    if (window === undefined) return;
    saveWindow.disabled = true;
    try {
      campaign = await call("PATCH", `/v1/campaigns/${id}`, { json: { calling_window: window } });
    } catch (error) {
      const message = showErrors(error, hours.byApiName);
      if (message) failed(error, windowProblem, message);
      return;
    } finally {
      saveWindow.disabled = false;
    }
    showHead();
    focusOn(hoursFact); // what changed, in the summary
    announce(window ? `Calling hours saved: ${describeWindow(campaign.calling_window)}.` : "Calling hours removed: the campaign may call at any time.");
  });

  editButton.addEventListener("click", async () => {
    if (!campaign) return;
    const changed = await editCampaign(campaign);
    if (changed) {
      campaign = changed;
      showHead();
      announce(`Saved “${changed.name}”.`);
      heading.focus(); // the name, as it is now
    } else {
      editButton.focus();
    }
  });

  deleteButton.addEventListener("click", async () => {
    if (!campaign) return;
    if (await deleteCampaign(campaign)) {
      announce(`Deleted “${campaign.name}”.`);
      go("#/campaigns");
    } else {
      deleteButton.focus();
    }
  });

  (async () => {
    try {
      [campaign, groups] = await Promise.all([call("GET", `/v1/campaigns/${id}`), allGroups()]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) return gone(); // an id out of range
      return failed(error, headProblem);
    }
    hours = windowFields(campaign.calling_window);
    fill(windowCard, hours.element);
    editButton.disabled = false;
    deleteButton.disabled = false;
    showHead();
    showGroups();
    fill(body, h("div", { className: "columns" }, windowForm, attachForm), attachedSection);
    heading.focus();
  })();
}
