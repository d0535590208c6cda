import { call, explain } from "../api.js";
import { announce, fill, h, loadingRow } from "../dom.js";
import { describeWindow, instant } from "../format.js";
import { createCampaign } from "./campaign_forms.js";

const COLUMNS = ["Name", "Calling hours", "Block groups", "Allow groups", "Last change"];

/** The groups attached to a campaign, as links; "None" for none. */
export function groupLinks(groups) {
  if (groups.length === 0) return h("span", { className: "none" }, "None");
  return h(
    "ul",
    { className: "inline-list" },
    groups.map((group) => h("li", {}, h("a", { href: `#/groups/${group.id}` }, group.name))),
  );
}

/** The account's campaigns; creating one. */
export function renderCampaigns(main, { go }) {
  const newCampaign = h("button", { type: "button", className: "primary" }, "New campaign");
  const body = h("tbody", {}, loadingRow(COLUMNS.length));
  const table = h(
    "table",
    { className: "list", "aria-busy": "true" },
    h("caption", { className: "visually-hidden" }, "Your campaigns"),
    h("thead", {}, h("tr", {}, COLUMNS.map((title) => h("th", { scope: "col" }, title)))),
    body,
  );
  const listProblem = h("p", { className: "form-error", role: "alert", hidden: true });
  fill(
    main,
    h("div", { className: "title-row" }, h("h1", { tabindex: "-1" }, "Campaigns"), newCampaign),
    h(
      "p",
      { className: "lead" },
      "A campaign obeys every global block group and the groups attached to it; an allow group lifts the blocks that consent may override. Its calling hours are the callee's local time.",
    ),
    h("section", { "aria-label": "Your campaigns" }, listProblem, h("div", { className: "table-wrap" }, table)),
  );

  function row(campaign) {
    return h(
      "tr",
      {},
      h(
        "th",
        { scope: "row", "data-label": "Name" },
        h("a", { href: `#/campaigns/${campaign.id}` }, campaign.name),
        campaign.description ? h("span", { className: "sub" }, campaign.description) : null,
      ),
      h("td", { "data-label": "Calling hours" }, describeWindow(campaign.calling_window)),
      h("td", { "data-label": "Block groups" }, groupLinks(campaign.block_groups)),
      h("td", { "data-label": "Allow groups" }, groupLinks(campaign.allow_groups)),
      h("td", { "data-label": "Last change" }, instant(campaign.updated_at)),
    );
  }

  async function load() {
    table.setAttribute("aria-busy", "true");
    try {
      const answer = await call("GET", "/v1/campaigns");
      fill(
        body,
        answer.data.length
          ? answer.data.map(row)
          : h("tr", {}, h("td", { colspan: String(COLUMNS.length), className: "empty" }, "No campaigns yet: create one with New campaign.")),
      );
    } catch (error) {
      fill(body);
      listProblem.textContent = explain(error);
      listProblem.hidden = false;
    } finally {
      table.removeAttribute("aria-busy");
    }
  }

  newCampaign.addEventListener("click", async () => {
    const campaign = await createCampaign();
    if (campaign) {
      announce(`Created “${campaign.name}”.`);
      go(`#/campaigns/${campaign.id}`);
    } else {
      newCampaign.focus();
    }
  });

  load();
}
