// A campaign's fields (name, description, calling hours) as form controls, and the dialogs
// that create, change or delete a campaign: shared by the list of campaigns and a campaign's
// own page.

import { ApiError, call, explain } from "../api.js";
import { checkField, dialog, field, h, setFieldError, uid } from "../dom.js";
import { DAY_NAMES, DAYS } from "../format.js";
import { limits, sentence } from "../limits.js";
import { showErrors } from "./group_forms.js";

const TAKEN = "A campaign with this name already exists.";
const USUAL = { days: ["mon", "tue", "wed", "thu", "fri", "sat"], start: "09:00", end: "21:00" };

/** The name and description of a campaign, filled from `campaign` when given. */
function nameFields(campaign = null) {
  const name = field({ label: "Name", hint: sentence(limits.name_rule) }, h("input", { name: "name", required: true, autocomplete: "off" }));
  const description = field({ label: "Description (optional)", hint: limits.description_max ? `Up to ${limits.description_max} characters.` : "" }, h("input", { name: "description", autocomplete: "off" }));
  if (campaign) {
    name.control.value = campaign.name;
    description.control.value = campaign.description;
  }
  return { name, description };
}

/**
 * The calling hours: whether there are any, the days they start on, a start and an end.
 * windowFields(window) → {element, read, byApiName, focus}; read() answers the window to send
 * (null: any time) or, for a mistake it can tell before sending, shows it and answers undefined.
 */
export function windowFields(window = null) {
  const limited = checkField({
    label: "Only call within calling hours",
    hint: "In the callee's local time: a number with several time zones must be inside the hours in every one. Left off, the campaign may call at any time.",
  });
  limited.control.checked = Boolean(window);
  const shown = window || USUAL;

  const daysLegend = uid("days-legend");
  const daysError = h("p", { className: "field-error", id: `${daysLegend}-error`, hidden: true });
  const boxes = DAYS.map((day) =>
    h("input", { type: "checkbox", name: "days", value: day, id: uid(`day-${day}`), checked: shown.days.includes(day), "aria-describedby": daysError.id }),
  );
  const dayList = h(
    "fieldset",
    { className: "days" },
    h("legend", { id: daysLegend }, "Days"),
    h("div", { className: "day-boxes" }, boxes.map((box) => h("div", { className: "check" }, box, h("label", { for: box.id }, DAY_NAMES[box.value])))),
    daysError,
  );
  const days = { control: boxes[0], controls: boxes, error: daysError };
  // A time input cannot hold 24:00: the server reads 00:00 as an end the same way.
  const start = field({ label: "From" }, h("input", { type: "time", name: "start", value: shown.start, required: true }));
  const end = field({ label: "Until" }, h("input", { type: "time", name: "end", value: shown.end === "24:00" ? "00:00" : shown.end, required: true }));
  // Below both times, and read with each: what the pair means together.
  const timesHint = h("p", { className: "hint", id: uid("times-hint") }, "Until is not included. Until earlier than From: the hours run past midnight, into the next day.");
  for (const entry of [start, end]) entry.control.setAttribute("aria-describedby", `${timesHint.id} ${entry.control.getAttribute("aria-describedby")}`);
  const parts = h("div", { className: "window-parts" }, dayList, h("div", { className: "row times" }, start.wrapper, end.wrapper), timesHint);
  const element = h("div", { className: "window-fields" }, limited.wrapper, parts);
  const showParts = () => {
    parts.hidden = !limited.control.checked;
  };
  limited.control.addEventListener("change", showParts);
  showParts();

  const byApiName = { calling_window: limited, "calling_window.days": days, "calling_window.start": start, "calling_window.end": end };

  function read() {
    for (const entry of Object.values(byApiName)) setFieldError(entry, "");
    if (!limited.control.checked) return null;
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    const mistakes = [];
    if (chosen.length === 0) mistakes.push([days, "Tick at least one day."]);
    if (!start.control.value) mistakes.push([start, "Give the time calls may start."]);
    if (!end.control.value) mistakes.push([end, "Give the time calls must end."]);
    for (const [entry, message] of mistakes) setFieldError(entry, message);
    if (mistakes.length) {
      mistakes[0][0].control.focus();
      return undefined;
    }
    return { days: chosen, start: start.control.value, end: end.control.value };
  }

  return { element, read, byApiName };
}

/** Create a campaign in a dialog; resolves to the new campaign, or null if cancelled. */
export async function createCampaign() {
  const { name, description } = nameFields();
  const hours = windowFields();
  let created = null;
  const outcome = await dialog({
    title: "New campaign",
    body: [name.wrapper, description.wrapper, hours.element],
    confirmLabel: "Create campaign",
    onConfirm: async () => {
      setFieldError(name, "");
      setFieldError(description, "");
      const window = hours.read();
      if (window === undefined) return "Fix the fields marked above.";
      try {
        created = await call("POST", "/v1/campaigns", {
          json: { name: name.control.value.trim(), description: description.control.value, calling_window: window },
        });
        return "";
      } catch (error) {
        return showErrors(error, { name, description, ...hours.byApiName }, TAKEN) || "Fix the fields marked above.";
      }
    },
  });
  return outcome ? created : null;
}

/** Rename or redescribe a campaign in a dialog; resolves to the changed campaign, or null. */
export async function editCampaign(campaign) {
  const { name, description } = nameFields(campaign);
  let changed = null;
  const outcome = await dialog({
    title: `Change “${campaign.name}”`,
    body: [name.wrapper, description.wrapper],
    confirmLabel: "Save",
    onConfirm: async () => {
      const update = {};
      if (name.control.value.trim() !== campaign.name) update.name = name.control.value.trim();
      if (description.control.value !== campaign.description) update.description = description.control.value;
      if (Object.keys(update).length === 0) return "";
      try {
        changed = await call("PATCH", `/v1/campaigns/${campaign.id}`, { json: update });
        return "";
      } catch (error) {
        return showErrors(error, { name, description }, TAKEN) || "Fix the fields marked above.";
      }
    },
  });
  return outcome ? changed : null;
}

/** Ask, then delete a campaign; resolves true once it is deleted. */
export async function deleteCampaign(campaign) {
  const outcome = await dialog({
    title: `Delete “${campaign.name}”?`,
    body: h("p", {}, "The campaign will be deleted; its groups and their entries stay as they are. A check naming it will be refused. This cannot be undone."),
    confirmLabel: "Delete campaign",
    danger: true,
    onConfirm: async () => {
      try {
        await call("DELETE", `/v1/campaigns/${campaign.id}`);
        return "";
      } catch (error) {
        return error instanceof ApiError && error.status === 404 ? "" : explain(error);
      }
    },
  });
  return outcome === "confirm";
}
