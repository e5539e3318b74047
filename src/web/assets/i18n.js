// The page's strings, handed over by the server as a JSON data block (not script).
const strings = JSON.parse(document.getElementById("strings").textContent);

/** The text for `key` in the page's language (the key itself if there is none). */
export function t(key) {
  return strings[key] ?? key;
}

/** A time from the API (RFC 3339) in the reader's locale. */
export function when(rfc3339) {
  if (!rfc3339) return "";
  return new Date(rfc3339).toLocaleString(document.documentElement.lang);
}
