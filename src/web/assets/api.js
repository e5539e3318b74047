// Calls to the JSON API (/v1/...) and its errors: a google.rpc.Status with details.

/** An API error: the HTTP status, the google.rpc.Status and its field violations. */
export class ApiError extends Error {
  constructor(httpStatus, status) {
    super(status.message || `HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.status = status;
    this.violations = (status.details || [])
      .filter((d) => d["@type"] === "type.googleapis.com/google.rpc.BadRequest")
      .flatMap((d) => d.fieldViolations || []);
  }
}

/** Calls `method path` with a JSON `body` and an optional bearer token. */
export async function call(method, path, body, token) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/** Shows `message` (and a list of `lines`) in the page's alert box; none hides it. */
export function showProblem(message, lines = []) {
  const box = document.getElementById("problem");
  box.replaceChildren();
  if (!message) {
    box.hidden = true;
    return;
  }
  const p = document.createElement("p");
  p.textContent = message;
  box.append(p);
  if (lines.length) {
    const ul = document.createElement("ul");
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      ul.append(li);
    }
    box.append(ul);
  }
  box.hidden = false;
  box.focus?.();
}
