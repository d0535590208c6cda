import { ApiError, call, explain } from "../api.js";
import { field, fill, h, setFieldError } from "../dom.js";
import { focusOn } from "../focus.js";
import { describeWindow, instant, instantIn, RULES, SURFACES, timeNowIn } from "../format.js";

/** Is this number blocked, and by what? With a campaign: may it call the number now? */
export function renderCheck(main, { number = "", campaign: askedCampaign = "" } = {}) {
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
  const noCampaign = () => h("option", { value: "" }, "None: only whether it is blocked");
  const campaign = field(
    { label: "Campaign", hint: "With a campaign: whether it may call the number now, by its groups and calling hours." },
    h("select", { name: "campaign" }, noCampaign()),
  );
  const problem = h("p", { className: "form-error", role: "alert", tabindex: "-1", hidden: true });
  // The verdict takes the focus once it comes, and is read out from there.
  const result = h("div", { className: "check-result" });
  const submit = h("button", { type: "submit", className: "primary" }, "Check");
  const form = h(
    "form",
    { className: "card", novalidate: true, "aria-label": "Check a number" },
    h("div", { className: "row" }, input.wrapper, direction.wrapper, campaign.wrapper),
    problem,
    submit,
  );
  fill(main, h("h1", { tabindex: "-1" }, "Check a number"), form, result);
  input.control.value = number;

  // The campaigns for the picker, and the account's time zone for the next callable time.
  const campaigns = new Map();
  let accountZone = "UTC";
  const loaded = Promise.all([
    call("GET", "/v1/campaigns").then((answer) => {
      for (const item of answer.data) campaigns.set(String(item.id), item);
      const sorted = [...campaigns.values()].sort((a, b) => a.name.localeCompare(b.name));
      fill(campaign.control, noCampaign(), sorted.map((item) => h("option", { value: String(item.id) }, item.name)));
      if (campaigns.has(askedCampaign)) campaign.control.value = askedCampaign;
    }),
    call("GET", "/v1/account").then((account) => {
      accountZone = account.timezone;
    }),
  ]).catch((error) => {
    problem.textContent = explain(error);
    problem.hidden = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(input, "");
    setFieldError(campaign, "");
    problem.hidden = true;
    fill(result); // an earlier answer must not sit beside this question
    const typed = input.control.value.trim();
    if (!typed) {
      setFieldError(input, "Type a number.");
      input.control.focus();
      return;
    }
    submit.disabled = true;
    const chosen = campaign.control.value;
    try {
      await loaded;
      const answer = await call("GET", `/v1/check/${encodeURIComponent(typed)}`, {
        query: { direction: direction.control.value, campaign: chosen },
      });
      const shown = chosen ? campaignVerdict(typed, answer, campaigns.get(chosen), accountZone) : verdict(typed, answer);
      fill(result, shown);
      focusOn(shown);
    } catch (error) {
      if (error instanceof ApiError && error.problem.type?.endsWith("campaign-not-found")) {
        setFieldError(campaign, "This campaign no longer exists.");
        campaign.control.focus();
      } else if (error instanceof ApiError && (error.status === 422 || error.status === 404)) {
        // 404: the text made a path no route has ("98765/43210"): not a number either.
        setFieldError(input, "Not a valid phone number.");
        input.control.focus();
      } else {
        problem.textContent = explain(error);
        problem.hidden = false;
        focusOn(problem);
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
  const rows = answer.matches.map((match) => {
    const note = h("td", { "data-label": "Note" }, match.group_id ? "…" : "");
    const added = h("td", { "data-label": "Added" }, match.group_id ? "…" : "");
    if (match.group_id) explainEntry(match, note, added);
    return h(
      "tr",
      {},
      h("th", { scope: "row", "data-label": "Group" }, match.group_id ? h("a", { href: `#/groups/${match.group_id}` }, match.group_name) : "Account setting"),
      h("td", { "data-label": "Matched" }, h("code", {}, match.pattern)),
      h("td", { "data-label": "Rule" }, RULES[match.rule] || match.rule),
      h("td", { "data-label": "Expires" }, instant(match.expires_at)),
      note,
      added,
    );
  });
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
        h("thead", {}, h("tr", {}, ["Group", "Matched", "Rule", "Expires", "Note", "Added"].map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

/**
 * Why a match blocks: its entry's note, when it was added and through what (the surface, and
 * the label of the key, from the history event that added it), and a link to its history.
 * Filled in once asked for; the verdict does not wait for it.
 */
async function explainEntry(match, noteCell, addedCell) {
  const history = h("a", { href: `#/history?group=${match.group_id}&number=${encodeURIComponent(match.pattern)}` }, "History");
  try {
    const [entries, events] = await Promise.all([
      call("GET", `/v1/groups/${match.group_id}/numbers`, { query: { q: match.pattern, limit: 20 } }),
      call("GET", "/v1/audit", { query: { group_id: match.group_id, number: match.pattern, limit: 100 } }),
    ]);
    const entry = entries.data.find((item) => item.number === match.pattern);
    if (!entry) {
      fill(noteCell, "—");
      fill(addedCell, history);
      return;
    }
    // The event that wrote the entry first carries its creation time.
    const created = new Date(entry.created_at).getTime();
    const adding = events.data.find((event) => new Date(event.at).getTime() === created);
    const by = [SURFACES[adding?.surface || entry.source] || entry.source];
    if (adding?.key_id) by.push(adding.key_label || `key #${adding.key_id}`);
    fill(noteCell, entry.note || h("span", { className: "none" }, "No note"));
    fill(addedCell, instant(entry.created_at), h("span", { className: "sub" }, `by ${by.join(", ")}`), " ", history);
  } catch (error) {
    fill(noteCell, "");
    fill(addedCell, history, h("span", { className: "sub" }, explain(error)));
  }
}

function groupLink(id, name) {
  return id ? h("a", { href: `#/groups/${id}` }, `“${name}”`) : "an account setting";
}

function expiry(at) {
  return at ? `, expires ${instant(at)}` : ", never expires";
}

/** A reason of a campaign check, in words. */
function reasonWords(reason, window) {
  switch (reason.code) {
    case "blocked":
    case "blocked_by_prefix":
      return [
        "Blocked by ",
        groupLink(reason.group_id, reason.group_name),
        reason.code === "blocked" ? ", entry " : ", prefix ",
        h("code", {}, reason.pattern),
        expiry(reason.expires_at),
        ".",
      ];
    case "withheld_caller":
      return ["The caller ID is withheld, and the account blocks withheld callers."];
    case "consent_overrides_block": {
      const allowed = reason.allowed_by || {};
      return [
        "Consent in ",
        groupLink(allowed.group_id, allowed.group_name),
        " (entry ",
        h("code", {}, allowed.pattern),
        expiry(allowed.expires_at),
        ") overrides the block of ",
        groupLink(reason.group_id, reason.group_name),
        " (entry ",
        h("code", {}, reason.pattern),
        ").",
      ];
    }
    case "outside_calling_hours": {
      const zones = reason.time_zones || [];
      const hours = window ? ` (${describeWindow(window)})` : "";
      return [`Outside calling hours${hours} in ${zones.map((zone) => `${zone}, where it is ${timeNowIn(zone)}`).join("; ")}.`];
    }
    default:
      return [reason.code];
  }
}

function campaignVerdict(typed, answer, campaign, zone) {
  const shown = answer.number || typed;
  const name = answer.campaign.name;
  const reasons = answer.reasons.length
    ? h(
        "ul",
        { className: "reasons", "aria-label": "Reasons" },
        answer.reasons.map((reason) => h("li", {}, h("span", {}, reasonWords(reason, campaign?.calling_window)), " ", h("code", { className: "reason-code" }, reason.code))),
      )
    : null;
  const windowOnly = !answer.callable && answer.reasons.every((reason) => ["outside_calling_hours", "consent_overrides_block"].includes(reason.code));
  let next = null;
  if (answer.next_callable_at) {
    next = h(
      "p",
      { className: "next-callable" },
      "Next callable: ",
      h("strong", {}, instantIn(answer.next_callable_at, zone)),
      zone === "UTC" ? "" : `, ${instantIn(answer.next_callable_at, "UTC")}`,
    );
  } else if (windowOnly) {
    next = h("p", { className: "next-callable" }, "No time in the next 7 days has every time zone of this number inside the calling hours.");
  }
  const why = campaign?.calling_window ? "no list blocks it, and it is within the calling hours." : "no list blocks it, and the campaign may call at any time.";
  const sentence = answer.callable ? `“${name}” may call ${shown} now${answer.reasons.length ? ":" : `: ${why}`}` : `“${name}” may not call ${shown} now:`;
  return h(
    "div",
    { className: `verdict ${answer.callable ? "clear" : "blocked"}` },
    h("p", { className: "big" }, answer.callable ? "Callable" : "Not callable"),
    h("p", {}, sentence),
    reasons,
    next,
  );
}
