// The claim page: for the holder of a claim token (in the URL fragment,
// #token=...[&party=contributor], which the browser never sends to the server), shows
// the claim's state, deadlines, decision with its statement of reasons and redress,
// and timeline, and offers the actions this party may take now. The server decides
// what is allowed (PARTY_ACCESS in src/api/auth.rs); the page only hides what the
// state makes pointless.
import { call, showProblem } from "./api.js";
import { t, when } from "./i18n.js";

const claimId = decodeURIComponent(window.location.pathname.split("/").pop());
const fragment = new URLSearchParams(window.location.hash.slice(1));
const token = fragment.get("token");
const party = fragment.get("party") === "contributor" ? "contributor" : "notifier";
const path = `/v1/claims/${encodeURIComponent(claimId)}`;

const OPEN = ["CLAIM_STATE_RECEIVED", "CLAIM_STATE_NEEDS_INFO", "CLAIM_STATE_UNDER_REVIEW"];
const DECIDED = [
  "CLAIM_STATE_REJECTED",
  "CLAIM_STATE_CORRECTED",
  "CLAIM_STATE_DELETED",
  "CLAIM_STATE_RESTORED",
];

/** Which action form shows, by party and state. */
const ACTIONS = {
  notifier: {
    "amend-form": (c) => c.state === "CLAIM_STATE_NEEDS_INFO",
    "withdraw-form": (c) => OPEN.includes(c.state),
    "legal-form": (c) => c.state === "CLAIM_STATE_COUNTER_NOTICED",
    "complain-form": (c) => DECIDED.includes(c.state),
  },
  contributor: {
    "counter-form": (c) => c.state === "CLAIM_STATE_DELETED" && !c.counterNotice,
    "complain-form": (c) => DECIDED.includes(c.state),
  },
};
const FORMS = ["amend-form", "withdraw-form", "legal-form", "counter-form", "complain-form"];

/** An enum value without its prefix, for people: CLAIM_STATE_UNDER_REVIEW -> under review. */
function label(value, prefix) {
  return (value || "").replace(prefix, "").toLowerCase().replaceAll("_", " ");
}

function text(id, value) {
  document.getElementById(id).textContent = value || "—";
}

const value = (id) => document.getElementById(id).value.trim();
const checked = (id) => document.getElementById(id).checked;

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
  text("info-request", claim.informationRequest?.message);

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

  let any = false;
  for (const id of FORMS) {
    const show = ACTIONS[party][id]?.(claim) ?? false;
    document.getElementById(id).hidden = !show;
    any ||= show;
  }
  document.getElementById("no-actions").hidden = any;
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

/** Runs `action` when the form `id` is submitted. */
function on(id, action) {
  document.getElementById(id).addEventListener("submit", (event) => {
    event.preventDefault();
    action();
  });
}

on("amend-form", () => act("amend", { reply: value("amend-reply") }));
on("withdraw-form", () => act("withdraw", { reason: value("withdraw-reason") }));
on("legal-form", () =>
  act("reportLegalAction", {
    authority: value("legal-authority"),
    caseReference: value("legal-case"),
    filedDate: value("legal-filed"),
  }),
);
on("counter-form", () =>
  act("counterNotice", {
    counterNotice: {
      name: value("cn-name"),
      email: value("cn-email"),
      postalAddress: value("cn-postal"),
      phone: value("cn-phone"),
      removedMaterial: value("cn-removed"),
      statement: value("cn-statement"),
      consentToJurisdiction: checked("cn-consent"),
      acceptsServiceOfProcess: checked("cn-consent"),
      perjuryStatement: checked("cn-perjury"),
      signature: value("cn-signature"),
    },
  }),
);
on("complain-form", () => act("complain", { text: value("complaint-text") }));

// Without a token in the link (e-mails carry none), ask for it; it goes into the
// fragment, never into a request line.
on("token-form", () => {
  const entered = value("token-input");
  if (entered) {
    window.location.hash = new URLSearchParams({ token: entered }).toString();
    window.location.reload();
  }
});

// The language switch keeps the token: it is in the fragment, which a plain link drops.
document.getElementById("switch").addEventListener("click", (event) => {
  event.preventDefault();
  window.location.assign(`${event.currentTarget.getAttribute("href")}${window.location.hash}`);
});

text("claim-id", claimId);
if (!token) {
  showProblem(t("claim_no_token"));
  document.getElementById("token-form").hidden = false;
} else {
  load().catch((error) => showProblem(`${t("error")}: ${error.message}`));
}
