// The dashboard, the page's first screen: checks and blocked over time, the blocked share,
// what each group matched and the entries matched most, from GET /v1/stats. Drawn again every
// few seconds while it shows. Each chart (uPlot, on a canvas hidden from screen readers) has
// its data as a table behind "Show as table".

import { call, explain, session } from "../api.js";
import { fill, h, loadingRow, uid } from "../dom.js";
import { count, percent, rangeStart } from "../format.js";
import uPlot from "../vendor/uplot/uPlot.esm.js";

const POLL_MS = 5000;
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** The ranges offered: each is `points` buckets of `bucket`, the current one last. */
const RANGES = [
  { value: "hour", label: "Last hour", bucket: "minute", seconds: MINUTE, points: 60, unit: "minute", words: "the last hour" },
  { value: "day", label: "Last day", bucket: "hour", seconds: HOUR, points: 24, unit: "hour", words: "the last 24 hours" },
  { value: "week", label: "Last week", bucket: "hour", seconds: HOUR, points: 168, unit: "hour", words: "the last 7 days" },
  { value: "month", label: "Last month", bucket: "day", seconds: DAY, points: 30, unit: "day", words: "the last 30 days (UTC days)" },
];
const BARS_SHOWN = 10; // groups in the bar chart; the table lists every one

// The page's own colours (app.css): 3:1 and more against the white card.
const INK = "#555a64";
const LINE = "#e5e7eb";
const CHECKS = "#0b57d0";
const BLOCKED = "#b3261e";

let chosen = "hour"; // the range shown, kept while the tab is open

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

/** A bucket's start as a row of the table says it: a day bucket is a UTC day. */
function bucketName(seconds, range) {
  const date = new Date(seconds * 1000);
  return range.unit === "day" ? dayFormat.format(date) : timeFormat.format(date);
}

/** Whole numbers on an axis: steps of 1, 2, 5, 10… */
const WHOLE_STEPS = Array.from({ length: 28 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3)); // 1, 2, 5, 10 ... 1e9
const countAxis = { stroke: INK, grid: { stroke: LINE, width: 1 }, ticks: { stroke: LINE, width: 1 }, incrs: WHOLE_STEPS, values: (u, splits) => splits.map((value) => count(value)) };

/** "A long group name" cut to fit beside a bar; the table has it whole. */
function short(name, letters = 18) {
  return name.length > letters ? `${name.slice(0, letters - 1)}…` : name;
}

/**
 * A chart in `holder`, sized to it: drawn once data comes, again with new data, and resized
 * with its holder (at the next frame, so a resize never feeds back into the observer).
 */
function chartIn(holder, makeOptions) {
  let plot = null;
  let options = null;
  const observer = new ResizeObserver(() => {
    requestAnimationFrame(() => {
      if (plot && holder.isConnected && holder.clientWidth && plot.width !== holder.clientWidth) {
        plot.setSize({ width: holder.clientWidth, height: plot.height });
      }
    });
  });
  observer.observe(holder);
  return {
    /** Draw `data`; `key` names what the options depend on (drawn anew when it changes). */
    draw(data, key, height) {
      if (!holder.isConnected) return this.stop();
      if (plot && (options.key !== key || plot.height !== height)) {
        plot.destroy();
        plot = null;
      }
      if (plot) return plot.setData(data);
      options = { key, ...makeOptions(), width: holder.clientWidth || 300, height };
      plot = new uPlot(options, data, holder);
    },
    stop() {
      observer.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}

/** A table with a caption and column heads, busy until its first rows come. */
function dataTable(caption, heads, { captionHidden = false } = {}) {
  const body = h("tbody", {}, loadingRow(heads.length));
  const foot = h("tfoot", { hidden: true });
  const captionElement = h("caption", { className: captionHidden ? "visually-hidden" : "" }, caption);
  const table = h(
    "table",
    { className: "list", "aria-busy": "true" },
    captionElement,
    h("thead", {}, h("tr", {}, heads.map((head, index) => h("th", { scope: "col", className: index > 0 && head !== "Group" ? "num" : "" }, head)))),
    body,
    foot,
  );
  return { table, body, foot, caption: captionElement };
}

/** A chart's data as a table, behind a disclosure. */
function asTable(table) {
  return h("details", { className: "as-table" }, h("summary", {}, "Show as table"), h("div", { className: "table-wrap" }, table));
}

/** Checks over time, the blocked share, matches by group and the entries matched most. */
export function renderDashboard(main) {
  const rangeName = uid("range");
  const radios = RANGES.map((range) =>
    h("input", { type: "radio", name: rangeName, value: range.value, id: `${rangeName}-${range.value}`, checked: range.value === chosen }),
  );
  const rangeChoice = h(
    "fieldset",
    { className: "segmented" },
    h("legend", {}, "Range"),
    h("div", { className: "segments" }, RANGES.map((range, index) => h("label", { for: radios[index].id }, radios[index], h("span", {}, range.label)))),
  );
  const problem = h("p", { className: "form-error", role: "alert", hidden: true });

  // The share of checks blocked, as a big number, with what it is made of.
  const shareTitle = h("h2", { id: uid("share") }, "Blocked share");
  const share = h("p", { className: "big-number" }, "…");
  const totals = {
    checks: h("dd", { "data-total": "checks" }, "…"),
    blocked: h("dd", { "data-total": "blocked" }, "…"),
  };
  const shareNote = h("p", { className: "hint" }, "");
  const shareCard = h(
    "section",
    { className: "card share-card", "aria-labelledby": shareTitle.id },
    shareTitle,
    share,
    h("dl", { className: "facts" }, h("div", {}, h("dt", {}, "Checks"), totals.checks), h("div", {}, h("dt", {}, "Blocked"), totals.blocked)),
    shareNote,
  );

  // Checks and blocked per bucket: a chart, and the same as a table.
  const timeTitle = h("h2", { id: uid("over-time") }, "Checks and blocked over time");
  const timeHolder = h("div", { className: "chart", "aria-hidden": "true" });
  const timeKey = h(
    "ul",
    { className: "chart-key", "aria-hidden": "true" },
    h("li", {}, h("span", { className: "swatch checks" }), "Checks"),
    h("li", {}, h("span", { className: "swatch blocked" }), "Blocked"),
  );
  const timeTable = dataTable("", ["Time", "Checks", "Blocked"]);
  const timeCard = h("section", { className: "card chart-card", "aria-labelledby": timeTitle.id }, timeTitle, timeKey, timeHolder, asTable(timeTable.table));

  // What each group matched: bars, and the same as a table.
  const groupsTitle = h("h2", { id: uid("by-group") }, "Matched by group");
  const groupsNote = h("p", { className: "hint" }, "Checks each group matched: a block group's are the calls it stopped.");
  const groupsHolder = h("div", { className: "chart", "aria-hidden": "true" });
  const groupsEmpty = h("p", { className: "none", hidden: true }, "No group matched a check in this range.");
  const groupsTable = dataTable("", ["Group", "Matched"]);
  const groupsCard = h("section", { className: "card chart-card", "aria-labelledby": groupsTitle.id }, groupsTitle, groupsNote, groupsHolder, groupsEmpty, asTable(groupsTable.table));

  // The entries single checks matched most.
  const topTitle = h("h2", { id: uid("top") }, "Entries matched most");
  const topTable = dataTable("", ["Entry", "Group", "Hits"], { captionHidden: true });
  const topCard = h(
    "section",
    { className: "card", "aria-labelledby": topTitle.id },
    topTitle,
    h("p", { className: "hint" }, "Single checks only (a batch is not counted per entry), on the UTC days the range touches."),
    h("div", { className: "table-wrap" }, topTable.table),
  );

  fill(
    main,
    h("h1", { tabindex: "-1" }, "Dashboard"),
    h("p", { className: "lead" }, "Checks answered through the API, single and batch (a scrub is not counted), and how many were blocked. Updated every few seconds."),
    rangeChoice,
    problem,
    h("div", { className: "dashboard" }, shareCard, timeCard, groupsCard, topCard),
  );

  const timeChart = chartIn(timeHolder, () => {
    const range = RANGES.find((each) => each.value === chosen);
    return {
      legend: { show: false },
      cursor: { show: false },
      // A day is a UTC day, as the server counts it; minutes and hours in the reader's zone.
      ...(range.unit === "day" ? { tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC") } : {}),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
      axes: [{ stroke: INK, grid: { stroke: LINE, width: 1 }, ticks: { stroke: LINE, width: 1 } }, countAxis],
      series: [
        {},
        { label: "Checks", stroke: CHECKS, width: 2, fill: "rgba(11, 87, 208, 0.10)", points: { show: false } },
        { label: "Blocked", stroke: BLOCKED, width: 2, fill: "rgba(179, 38, 30, 0.10)", points: { show: false } },
      ],
    };
  });
  let groupNames = [];
  const groupsChart = chartIn(groupsHolder, () => ({
    legend: { show: false },
    cursor: { show: false },
    // Horizontal bars: the groups down the side, most first; their counts along the bottom.
    scales: {
      x: { time: false, ori: 1, dir: -1, range: (u) => [-0.5, u.data[0].length - 0.5] },
      y: { ori: 0, dir: 1, range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
    },
    axes: [
      {
        scale: "x",
        side: 3,
        stroke: INK,
        size: (u) => Math.min(150, Math.round(u.width * 0.4)),
        gap: 6,
        grid: { show: false },
        ticks: { show: false },
        splits: (u) => u.data[0],
        values: (u, splits) => splits.map((index) => short(groupNames[index] || "", u.width < 400 ? 14 : 20)),
      },
      { ...countAxis, scale: "y", side: 2 },
    ],
    series: [{}, { label: "Matched", stroke: CHECKS, fill: CHECKS, width: 0, paths: uPlot.paths.bars({ size: [0.6, 28] }), points: { show: false } }],
  }));

  let ticket = 0; // an answer for a range no longer shown is dropped
  let timer = null;

  function showStats(answer, range) {
    problem.hidden = true;
    const words = range.words;
    // Totals and the share.
    totals.checks.textContent = count(answer.checks);
    totals.blocked.textContent = count(answer.blocked);
    share.textContent = answer.checks ? percent(answer.blocked / answer.checks) : "–";
    shareTitle.textContent = `Blocked share, ${range.label.toLowerCase()}`;
    shareNote.textContent = answer.checks
      ? `${count(answer.blocked)} of ${count(answer.checks)} checks blocked in ${words}.`
      : `No checks in ${words} yet.`;

    // Every bucket of the range, those without checks as zeros.
    const start = Date.parse(answer.from) / 1000;
    const end = Date.parse(answer.to) / 1000;
    const byStart = new Map(answer.series.map((point) => [Date.parse(point.start) / 1000, point]));
    const xs = [];
    const checks = [];
    const blocked = [];
    for (let at = start; at < end; at += range.seconds) {
      xs.push(at);
      checks.push(byStart.get(at)?.checks || 0);
      blocked.push(byStart.get(at)?.blocked || 0);
    }
    timeChart.draw([xs, checks, blocked], range.value, 220);
    timeTable.caption.textContent = `Checks and blocked per ${range.unit}, ${words} (a ${range.unit} without checks is left out)`;
    fill(
      timeTable.body,
      answer.series.length
        ? answer.series.map((point) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", "data-label": "Time" }, h("time", { datetime: point.start }, bucketName(Date.parse(point.start) / 1000, range))),
              h("td", { className: "num", "data-label": "Checks" }, count(point.checks)),
              h("td", { className: "num", "data-label": "Blocked" }, count(point.blocked)),
            ),
          )
        : h("tr", {}, h("td", { colspan: "3", className: "empty" }, `No checks in ${words}.`)),
    );
    timeTable.foot.hidden = answer.series.length === 0;
    fill(
      timeTable.foot,
      h(
        "tr",
        {},
        h("th", { scope: "row", "data-label": "Time" }, "Total"),
        h("td", { className: "num", "data-label": "Checks" }, count(answer.checks)),
        h("td", { className: "num", "data-label": "Blocked" }, count(answer.blocked)),
      ),
    );

    // Matches by group: the most matched as bars, every one in the table.
    const shown = answer.by_group.slice(0, BARS_SHOWN);
    groupNames = shown.map((group) => group.name);
    groupsEmpty.hidden = shown.length > 0;
    groupsHolder.hidden = shown.length === 0;
    if (shown.length) {
      groupsChart.draw([shown.map((_, index) => index), shown.map((group) => group.matched)], "bars", 40 + shown.length * 34);
    }
    const more = answer.by_group.length > BARS_SHOWN ? `; the chart shows the ${BARS_SHOWN} that matched most` : "";
    groupsTable.caption.textContent = `Checks each group matched, ${words}${more}`;
    fill(
      groupsTable.body,
      answer.by_group.length
        ? answer.by_group.map((group) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", "data-label": "Group" }, h("a", { href: `#/groups/${group.group_id}` }, group.name)),
              h("td", { className: "num", "data-label": "Matched" }, count(group.matched)),
            ),
          )
        : h("tr", {}, h("td", { colspan: "2", className: "empty" }, "No group matched a check in this range.")),
    );

    topTable.caption.textContent = `Entries matched most, ${words}`;
    fill(
      topTable.body,
      answer.top_entries.length
        ? answer.top_entries.map((entry) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", "data-label": "Entry" }, h("code", { className: "number" }, entry.international)),
              h("td", { "data-label": "Group" }, h("a", { href: `#/groups/${entry.group_id}` }, entry.group_name)),
              h("td", { className: "num", "data-label": "Hits" }, count(entry.hits)),
            ),
          )
        : h("tr", {}, h("td", { colspan: "3", className: "empty" }, "No entry matched a single check on these days.")),
    );
  }

  function busy(on) {
    for (const { table } of [timeTable, groupsTable, topTable]) {
      if (on) table.setAttribute("aria-busy", "true");
      else table.removeAttribute("aria-busy");
    }
  }

  async function load() {
    const mine = ++ticket;
    const range = RANGES.find((each) => each.value === chosen);
    try {
      const answer = await call("GET", "/v1/stats", { query: { bucket: range.bucket, from: rangeStart(range.seconds, range.points) } });
      if (mine !== ticket || !main.contains(rangeChoice)) return;
      showStats(answer, range);
    } catch (error) {
      if (mine !== ticket || !main.contains(rangeChoice)) return;
      const message = explain(error);
      if (problem.hidden || problem.textContent !== message) {
        problem.textContent = message;
        problem.hidden = false;
      }
    } finally {
      if (mine === ticket) busy(false);
    }
  }

  // Again every few seconds while this screen shows (and the tab is seen); never after.
  function poll() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!main.contains(rangeChoice)) {
        timeChart.stop();
        groupsChart.stop();
        return;
      }
      if (!document.hidden && session()) await load();
      poll();
    }, POLL_MS);
  }

  for (const radio of radios) {
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      chosen = radio.value;
      busy(true);
      load();
      poll(); // the next refresh a full period after the switch
    });
  }

  load();
  poll();
}
