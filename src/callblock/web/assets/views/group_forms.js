// The group's fields (name, direction, description) as form controls, and the dialogs that
// change or delete a group: shared by the list of groups and a group's own page.

import { ApiError, call, explain } from "../api.js";
import { dialog, field, h, setFieldError } from "../dom.js";
import { DIRECTIONS, plural } from "../format.js";
import { limits, sentence } from "../limits.js";

/** The three controls of a group, filled from `group` when given. */
export function groupFields(group = null) {
  const name = field({ label: "Name", hint: sentence(limits.name_rule) }, h("input", { name: "name", required: true, autocomplete: "off" }));
  const direction = field(
    { label: "Direction", hint: "Which calls the group's numbers block." },
    h("select", { name: "direction" }, Object.entries(DIRECTIONS).map(([value, label]) => h("option", { value }, label))),
  );
  const description = field({ label: "Description (optional)", hint: limits.description_max ? `Up to ${limits.description_max} characters.` : "" }, h("input", { name: "description", autocomplete: "off" }));
  if (group) {
    name.control.value = group.name;
    direction.control.value = group.direction;
    description.control.value = group.description;
  }
  return { name, direction, description, all: [name, direction, description] };
}

/**
 * Show a failed call's field errors next to their fields; anything else goes to the form's
 * own message (returned). Returns "" when every error found its field.
 */
export function showErrors(error, fields) {
  for (const entry of Object.values(fields)) setFieldError(entry, "");
  if (!(error instanceof ApiError) || ![409, 422].includes(error.status)) return explain(error);
  const unplaced = [];
  for (const [name, message] of Object.entries(error.fieldErrors)) {
    const entry = fields[name];
    if (entry) setFieldError(entry, message === "already exists" ? "A group with this name already exists." : message);
    else unplaced.push(`${name}: ${message}`);
  }
  const first = Object.keys(error.fieldErrors).map((name) => fields[name]).find(Boolean);
  first?.control.focus();
  if (unplaced.length) return unplaced.join("; ");
  return Object.keys(error.fieldErrors).length ? "" : explain(error);
}

/** Create a group in a dialog; resolves to the new group, or null if cancelled. */
export async function createGroup() {
  const fields = groupFields();
  let created = null;
  const outcome = await dialog({
    title: "New group",
    body: fields.all.map((entry) => entry.wrapper),
    confirmLabel: "Create group",
    onConfirm: async () => {
      try {
        created = await call("POST", "/v1/groups", {
          json: {
            name: fields.name.control.value.trim(),
            direction: fields.direction.control.value,
            description: fields.description.control.value,
          },
        });
        return "";
      } catch (error) {
        return showErrors(error, { name: fields.name, direction: fields.direction, description: fields.description }) || "Fix the fields marked above.";
      }
    },
  });
  return outcome ? created : null;
}

/** Edit a group in a dialog; resolves to the changed group, or null if left alone. */
export async function editGroup(group) {
  const fields = groupFields(group);
  let changed = null;
  const outcome = await dialog({
    title: `Change “${group.name}”`,
    body: fields.all.map((entry) => entry.wrapper),
    confirmLabel: "Save",
    onConfirm: async () => {
      const update = {};
      const name = fields.name.control.value.trim();
      if (name !== group.name) update.name = name;
      if (fields.direction.control.value !== group.direction) update.direction = fields.direction.control.value;
      if (fields.description.control.value !== group.description) update.description = fields.description.control.value;
      if (Object.keys(update).length === 0) return "";
      try {
        changed = await call("PATCH", `/v1/groups/${group.id}`, { json: update });
        return "";
      } catch (error) {
        return showErrors(error, { name: fields.name, direction: fields.direction, description: fields.description }) || "Fix the fields marked above.";
      }
    },
  });
  return outcome ? changed : null;
}

/** Ask, then delete a group; resolves true once it is deleted. */
export async function deleteGroup(group) {
  const entries = group.active_count + group.expired_count;
  const outcome = await dialog({
    title: `Delete “${group.name}”?`,
    body: h("p", {}, `The group and its ${plural(entries, "entry", "entries")} will be deleted. This cannot be undone.`),
    confirmLabel: "Delete group",
    danger: true,
    onConfirm: async () => {
      try {
        await call("DELETE", `/v1/groups/${group.id}`);
        return "";
      } catch (error) {
        return error instanceof ApiError && error.status === 404 ? "" : explain(error);
      }
    },
  });
  return outcome === "confirm";
}
