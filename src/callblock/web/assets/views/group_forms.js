// The group's fields (name, kind, scope, consent override, direction, description) as form
// controls, and the dialogs that change or delete a group: shared by the list of groups and a
// group's own page.

import { ApiError, call, explain } from "../api.js";
import { checkField, dialog, field, h, setFieldError } from "../dom.js";
import { DIRECTIONS, plural } from "../format.js";
import { limits, sentence } from "../limits.js";

const KIND_CHOICES = {
  block: "Block: its numbers must not be called",
  allow: "Allow: consent or a relationship",
};
const SCOPE_CHOICES = {
  global: "Global: every check and every campaign",
  attached: "Attached only: the campaigns it is attached to",
};

/** The controls of a group, filled from `group` when given. */
export function groupFields(group = null) {
  const name = field({ label: "Name", hint: sentence(limits.name_rule) }, h("input", { name: "name", required: true, autocomplete: "off" }));
  const kind = field(
    { label: "Kind", hint: "An allow group lists numbers with consent or a relationship (its entries expire like any other)." },
    h("select", { name: "kind" }, Object.entries(KIND_CHOICES).map(([value, label]) => h("option", { value }, label))),
  );
  const scope = field(
    { label: "Scope", hint: "A check without a campaign counts global block groups only." },
    h("select", { name: "scope" }, Object.entries(SCOPE_CHOICES).map(([value, label]) => h("option", { value }, label))),
  );
  const consent = checkField(
    {
      label: "Consent overrides this list",
      hint: "For a national registry: a number with active consent in an allow group may be called all the same. Leave it off for your own do-not-call list and legal holds, which consent never lifts.",
    },
    { name: "consent_overrides" },
  );
  const direction = field(
    { label: "Direction", hint: "Which calls the group's numbers count for." },
    h("select", { name: "direction" }, Object.entries(DIRECTIONS).map(([value, label]) => h("option", { value }, label))),
  );
  const description = field({ label: "Description (optional)", hint: limits.description_max ? `Up to ${limits.description_max} characters.` : "" }, h("input", { name: "description", autocomplete: "off" }));
  if (group) {
    name.control.value = group.name;
    kind.control.value = group.kind;
    scope.control.value = group.scope;
    consent.control.checked = group.consent_overrides;
    direction.control.value = group.direction;
    description.control.value = group.description;
  }
  // Only a block group can be lifted by consent: for an allow group the choice is not offered.
  const showConsent = () => {
    consent.wrapper.hidden = kind.control.value !== "block";
  };
  kind.control.addEventListener("change", showConsent);
  showConsent();
  const all = [name, kind, scope, consent, direction, description];
  return {
    name,
    kind,
    scope,
    consent,
    direction,
    description,
    all,
    /** Field name in the API → its entry, for placing a refusal's errors. */
    byApiName: { name, kind, scope, consent_overrides: consent, direction, description },
    /** What the form says, in the API's names. */
    values: () => ({
      name: name.control.value.trim(),
      kind: kind.control.value,
      scope: scope.control.value,
      consent_overrides: kind.control.value === "block" && consent.control.checked,
      direction: direction.control.value,
      description: description.control.value,
    }),
  };
}

/** The entry an error's field names: itself, else its nearest parent ("calling_window.days.2"). */
function entryFor(name, fields) {
  for (let path = name; path; path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "") {
    if (fields[path]) return fields[path];
  }
  return null;
}

/**
 * Show a failed call's field errors next to their fields; anything else goes to the form's
 * own message (returned). Returns "" when every error found its field. `taken` is what a
 * name already in use is called.
 */
export function showErrors(error, fields, taken = "A group with this name already exists.") {
  for (const entry of new Set(Object.values(fields))) setFieldError(entry, "");
  if (!(error instanceof ApiError) || ![409, 422].includes(error.status)) return explain(error);
  const unplaced = [];
  const placed = [];
  for (const [name, message] of Object.entries(error.fieldErrors)) {
    const entry = entryFor(name, fields);
    if (entry) {
      setFieldError(entry, message === "already exists" ? taken : message);
      placed.push(entry);
    } else {
      unplaced.push(`${name}: ${message}`);
    }
  }
  placed[0]?.control.focus();
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
        created = await call("POST", "/v1/groups", { json: fields.values() });
        return "";
      } catch (error) {
        return showErrors(error, fields.byApiName) || "Fix the fields marked above.";
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
      // Only what changed is sent: a rename alone must not rewrite the rest.
      const update = Object.fromEntries(Object.entries(fields.values()).filter(([name, value]) => value !== group[name]));
      if (Object.keys(update).length === 0) return "";
      try {
        changed = await call("PATCH", `/v1/groups/${group.id}`, { json: update });
        return "";
      } catch (error) {
        return showErrors(error, fields.byApiName) || "Fix the fields marked above.";
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
