// The page's frame: who is signed in, the navigation, and which view the address shows.
// Views live at #/dashboard (the first screen), #/groups, #/groups/ID, #/campaigns,
// #/campaigns/ID, #/check, #/history and #/keys; nothing secret is ever in it.

import { forget, SESSION_ENDED, session, whenSignedOut, whenSignedOutElsewhere } from "./api.js";
import { announce } from "./dom.js";
import { loadLimits } from "./limits.js";
import { renderCampaign } from "./views/campaign.js";
import { renderCampaigns } from "./views/campaigns.js";
import { renderCheck } from "./views/check.js";
import { renderDashboard } from "./views/dashboard.js";
import { renderGroup } from "./views/group.js";
import { renderGroups } from "./views/groups.js";
import { renderHistory } from "./views/history.js";
import { renderKeys } from "./views/keys.js";
import { renderSignIn, signInAgain } from "./views/signin.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");

function go(hash) {
  if (location.hash === hash) {
    show(); // no hashchange to focus the heading
    focusHeading();
  } else {
    location.hash = hash;
  }
}

function parse(hash) {
  const [path, search] = hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean), query: new URLSearchParams(search || "") };
}

function showSignedIn(credentials) {
  nav.hidden = !credentials;
  who.hidden = !credentials;
  document.getElementById("who-name").textContent = credentials ? credentials.username : "";
}

function markCurrent(section) {
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

let signedInAs = null; // the username whose view is on the page, if any

function closeDialogs() {
  for (const open of document.querySelectorAll("dialog")) {
    open.close();
    open.remove();
  }
}

function signInFirst(message = "") {
  signedInAs = null;
  closeDialogs();
  showSignedIn(null);
  markCurrent("");
  document.title = "Sign in · callblock";
  renderSignIn(main, {
    message,
    onSignedIn: () => {
      showSignedIn(session());
      if (!location.hash.startsWith("#/") || location.hash === "#/signin") {
        go("#/dashboard");
      } else {
        show(); // the screen the address names, its heading focused (the form is gone)
        focusHeading();
      }
    },
  });
}

function show() {
  const credentials = session();
  if (!credentials) return signInFirst();
  signedInAs = credentials.username;
  showSignedIn(credentials);
  const { parts, query } = parse(location.hash);
  const [section = "dashboard", id] = parts;
  markCurrent(section);
  switch (section) {
    case "dashboard":
      document.title = "Dashboard · callblock";
      return renderDashboard(main);
    case "groups":
      if (id && /^\d+$/.test(id)) {
        document.title = "Group · callblock";
        return renderGroup(main, { id, go });
      }
      document.title = "Groups · callblock";
      return renderGroups(main, { go });
    case "campaigns":
      if (id && /^\d+$/.test(id)) {
        document.title = "Campaign · callblock";
        return renderCampaign(main, { id, go });
      }
      document.title = "Campaigns · callblock";
      return renderCampaigns(main, { go });
    case "check":
      document.title = "Check a number · callblock";
      return renderCheck(main, { number: query.get("number") || "", campaign: query.get("campaign") || "" });
    case "history":
      document.title = "History · callblock";
      return renderHistory(main, { groupId: query.get("group") || "", number: query.get("number") || "", from: query.get("from") || "", to: query.get("to") || "", go });
    case "keys":
      document.title = "API keys · callblock";
      return renderKeys(main);
    default:
      return go("#/dashboard");
  }
}

/** After a view is drawn, its heading takes the focus, so a screen reader starts there. */
function focusHeading() {
  main.querySelector("h1")?.focus();
}

document.getElementById("sign-out").addEventListener("click", () => {
  forget();
  signInFirst("You are signed out.");
});

whenSignedOut((message) => {
  if (!signedInAs) return signInFirst(message);
  if (document.querySelector("dialog.signin-again")) return; // already asking
  signInAgain(message, signedInAs, {
    onSignedIn: (sameUser) => {
      if (sameUser) {
        // The refusals shown while the key was gone are answered now.
        for (const shown of document.querySelectorAll(".form-error")) {
          if (shown.textContent === SESSION_ENDED) shown.hidden = true;
        }
        announce("Signed in again: send what you were doing once more.");
      }
      else {
        closeDialogs(); // another account: nothing on the page is theirs
        show();
        focusHeading();
      }
    },
    onSignOut: () => signInFirst("You are signed out."),
  });
});

whenSignedOutElsewhere(() => signInFirst("You signed out in another tab."));

document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault(); // the address is the view's: "#main" would be read as a route
  main.focus();
});

window.addEventListener("hashchange", () => {
  show();
  if (session()) focusHeading(); // the sign-in form keeps its own focus, on the username
});

// The forms' hints come from the limits; a page that cannot load them still shows (a form
// that needs them loads them again before sending).
loadLimits().catch(() => {}).finally(show);
