// The notice form: builds the FileClaim JSON from the fields, posts it to
// POST /v1/claims (public intake, no token), marks the fields the server refused
// next to them, and on success shows the receipt with the private claim link.
import { call, showProblem } from "./api.js";
import { t, when } from "./i18n.js";

const form = document.getElementById("notice");

/** Sets `value` at the dotted `path` of `target` ("works.0.description"). */
function setPath(target, path, value) {
  const parts = path.split(".");
  let here = target;
  parts.forEach((part, i) => {
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (i === parts.length - 1) {
      here[key] = value;
    } else {
      if (here[key] === undefined) here[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      here = here[key];
    }
  });
}

/** Drops empty strings, and entries of arrays that are left empty. */
function prune(value) {
  if (Array.isArray(value)) {
    return value.map(prune).filter((v) => v !== undefined && Object.keys(v).length > 0);
  }
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined && p !== "") out[k] = p;
    }
    return out;
  }
  return value;
}

function notice() {
  const claim = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") setPath(claim, el.name, el.checked);
    else if (el.type === "radio") {
      if (el.checked) setPath(claim, el.name, el.value);
    } else setPath(claim, el.name, el.value.trim());
  }
  // Items without a locator are not items: only the kind has a value by default.
  if (claim.items && !claim.items[0].locator && !claim.items[0].excerpt) delete claim.items;
  return prune(claim);
}

function clearMarks() {
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
  for (const el of form.querySelectorAll(".violation")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
}

/** The form element whose data-field names `field` (or, failing that, its parent). */
function holderOf(field) {
  let name = field;
  while (name) {
    for (const el of form.querySelectorAll("[data-field]")) {
      if (el.dataset.field.split(" ").includes(name)) return el;
    }
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : "";
  }
  return null;
}

function markViolations(violations) {
  let first = null;
  const unplaced = [];
  violations.forEach((v, i) => {
    const holder = holderOf(v.field);
    if (!holder) {
      unplaced.push(`${v.field}: ${v.description}`);
      return;
    }
    holder.classList.add("invalid");
    const note = document.createElement("p");
    note.className = "violation";
    note.id = `violation-${i}`;
    note.textContent = v.description;
    holder.append(note);
    const input = holder.querySelector("input, select, textarea");
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      first ??= input;
    }
  });
  return { first, unplaced };
}

function showReceipt(answer) {
  const claim = answer.claim;
  const base = document.body.dataset.base || window.location.origin;
  const link = `${base}/claims/${encodeURIComponent(claim.id)}#token=${encodeURIComponent(answer.accessToken)}`;
  document.getElementById("receipt-id").textContent = claim.id;
  document.getElementById("receipt-deadline").textContent = when(claim.nextDeadline?.dueTime);
  const a = document.getElementById("receipt-link");
  a.href = link;
  a.textContent = link;
  form.hidden = true;
  const receipt = document.getElementById("receipt");
  receipt.hidden = false;
  receipt.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMarks();
  showProblem(null);
  const button = document.getElementById("send");
  button.disabled = true;
  button.textContent = t("sending");
  try {
    const requestId = crypto.randomUUID();
    const answer = await call("POST", `/v1/claims?request_id=${requestId}`, notice());
    showReceipt(answer);
  } catch (error) {
    if (error.violations?.length) {
      const { first, unplaced } = markViolations(error.violations);
      showProblem(t("refused"), unplaced);
      first?.focus();
    } else {
      showProblem(`${t("failed")} ${error.message}`);
    }
  } finally {
    button.disabled = false;
    button.textContent = t("submit");
  }
});
