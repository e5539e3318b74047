// The claim page: for the holder of a claim token (in the URL fragment, #token=...,
// which the browser never sends to the server), shows the claim's state, deadlines,
// decision with its statement of reasons and redress, and timeline, and offers the
// actions open now (withdraw while open, complain once decided).
import { call, showProblem } from "./api.js";
import { t, when } from "./i18n.js";

const claimId = decodeURIComponent(window.location.pathname.split("/").pop());
const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
const path = `/v1/claims/${encodeURIComponent(claimId)}`;

const OPEN = ["CLAIM_STATE_RECEIVED", "CLAIM_STATE_NEEDS_INFO", "CLAIM_STATE_UNDER_REVIEW"];
const DECIDED = [
  "CLAIM_STATE_REJECTED",
  "CLAIM_STATE_CORRECTED",
  "CLAIM_STATE_DELETED",
  "CLAIM_STATE_RESTORED",
];

/** An enum value without its prefix, for people: CLAIM_STATE_UNDER_REVIEW -> under review. */
function label(value, prefix) {
  return (value || "").replace(prefix, "").toLowerCase().replaceAll("_", " ");
}

function text(id, value) {
  document.getElementById(id).textContent = value || "—";
}

let claim = null;

async function load() {
  const answer = await call("GET", path, undefined, token);
  claim = answer.claim;
  text("state", label(claim.state, "CLAIM_STATE_"));
  text("filed", when(claim.createTime));
  text("article", claim.articleUrl || claim.articleId);
  const deadline = claim.nextDeadline;
  text(
    "deadline",
    deadline ? `${label(deadline.kind, "DEADLINE_KIND_")}: ${when(deadline.dueTime)}` : "",
  );
  document.getElementById("summary").hidden = false;

  const decision = claim.decision;
  if (decision?.outcome) {
    const reasons = decision.statementOfReasons || {};
    text("outcome", label(decision.outcome, "DECISION_OUTCOME_"));
    text("facts", reasons.facts);
    text("legal-ground", reasons.legalGround);
    text("explanation", reasons.explanation);
    text("redress", reasons.redress);
    document.getElementById("decision").hidden = false;
  }

  const events = await call("GET", `${path}/events`, undefined, token);
  const list = document.getElementById("timeline");
  list.replaceChildren();
  for (const event of events.events || []) {
    const li = document.createElement("li");
    const move = event.toState ? ` → ${label(event.toState, "CLAIM_STATE_")}` : "";
    li.textContent = `${when(event.time)}: ${event.action}${move}`;
    list.append(li);
  }
  document.getElementById("timeline-section").hidden = false;

  const canWithdraw = OPEN.includes(claim.state);
  const canComplain = DECIDED.includes(claim.state);
  document.getElementById("withdraw-form").hidden = !canWithdraw;
  document.getElementById("complain-form").hidden = !canComplain;
  document.getElementById("no-actions").hidden = canWithdraw || canComplain;
  document.getElementById("actions").hidden = false;
}

async function act(verb, body) {
  showProblem(null);
  document.getElementById("action-done").hidden = true;
  try {
    await call("POST", `${path}:${verb}`, { etag: claim.etag, ...body }, token);
    await load();
    document.getElementById("action-done").hidden = false;
  } catch (error) {
    const lines = (error.violations || []).map((v) => `${v.field}: ${v.description}`);
    showProblem(`${t("error")}: ${error.message}`, lines);
  }
}

document.getElementById("withdraw-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("withdraw", { reason: document.getElementById("withdraw-reason").value.trim() });
});
document.getElementById("complain-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("complain", { text: document.getElementById("complaint-text").value.trim() });
});

// The language switch keeps the token: it is in the fragment, which a plain link drops.
document.getElementById("switch").addEventListener("click", (event) => {
  event.preventDefault();
  window.location.assign(`${event.currentTarget.getAttribute("href")}${window.location.hash}`);
});

text("claim-id", claimId);
if (!token) {
  showProblem(t("claim_no_token"));
} else {
  load().catch((error) => showProblem(`${t("error")}: ${error.message}`));
}
