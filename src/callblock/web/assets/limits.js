// What a request may hold, as the server enforces it (GET /v1/limits, from callblock.rules):
// the forms state the server's own numbers and words, and keep no copy of them.

import { ApiError } from "./api.js";

/** Filled once loaded: name_rule, description_max, note_max, numbers_per_change, ... */
export const limits = {};
let loading = null;

/** Loads the limits once; a failed load is tried again by the next caller. */
export function loadLimits() {
  loading ??= (async () => {
    let response;
    try {
      response = await fetch("/v1/limits", { headers: { Accept: "application/json" } });
    } catch {
      throw new ApiError(0, null);
    }
    if (!response.ok) throw new ApiError(response.status, null);
    Object.assign(limits, await response.json());
  })().catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

/** A rule's words (as the server words its refusals) as a sentence of a hint. */
export function sentence(rule) {
  return rule ? `${rule[0].toUpperCase()}${rule.slice(1)}.` : "";
}
