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

/** Adds another fieldset of a repeated part (a work, an item, an evidence link): a
 * copy of the last one, emptied, with its names, ids and labels numbered on. */
function addAnother(key) {
  const sets = form.querySelectorAll(`fieldset[data-repeat="${key}"]`);
  const last = sets[sets.length - 1];
  const n = sets.length;
  const copy = last.cloneNode(true);
  for (const el of copy.querySelectorAll(".violation")) el.remove();
  copy.classList.remove("invalid");
  for (const el of copy.querySelectorAll("[data-field]")) {
    el.classList.remove("invalid");
    el.dataset.field = el.dataset.field.replace(/\[\d+\]/, `[${n}]`);
  }
  for (const el of copy.querySelectorAll("input, select, textarea")) {
    el.name = el.name.replace(/\.\d+\./, `.${n}.`);
    el.id = `${el.id.replace(/-\d+$/, "")}-${n}`;
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
    if (el.tagName === "SELECT") el.selectedIndex = 0;
    else el.value = "";
  }
  for (const el of copy.querySelectorAll("label[for]")) {
    el.htmlFor = `${el.htmlFor.replace(/-\d+$/, "")}-${n}`;
  }
  last.after(copy);
  copy.querySelector("input, select, textarea").focus();
}

for (const button of form.querySelectorAll("button[data-add]")) {
  button.addEventListener("click", () => addAnother(button.dataset.add));
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
  // Items without a locator or excerpt are not items: the kind always has a value.
  if (claim.items) claim.items = claim.items.filter((i) => i.locator || i.excerpt);
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
