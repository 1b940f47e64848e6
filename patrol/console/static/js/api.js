// The console's JSON API from the browser: CSRF header, errors shown next to their fields,
// and a small DOM builder that only ever sets text (never HTML) from data.

// the site settings an admin set (map tiles, plan defaults, the township's home), from the page
export const site = JSON.parse(document.getElementById("site-settings")?.textContent || "{}") || {};

export const csrfToken = () =>
  document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.fields = body?.fields || {};
    this.problems = body?.problems || [];
  }
}

export async function api(method, url, body) {
  const init = { method, headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const type = response.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await response.json() : await response.text();
  if (response.status === 401 && !url.endsWith("/api/session")) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : {});
  return data;
}

// Put each field's message next to it (an element with data-error-for=NAME, else after the
// input named NAME); the rest in the form's [data-form-error].
export function showErrors(form, error) {
  clearErrors(form);
  const general = [];
  for (const [name, message] of Object.entries(error.fields || {})) {
    const key = name.split(".")[0];
    let slot = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    const input = form.querySelector(`[name="${CSS.escape(key)}"]`);
    if (!slot && input) {
      slot = el("span", { class: "field-error", "data-error-for": key });
      input.insertAdjacentElement("afterend", slot);
    }
    if (slot) {
      slot.textContent = message;
      input?.setAttribute("aria-invalid", "true");
    } else general.push(`${name}: ${message}`);
  }
  const box = form.querySelector("[data-form-error]");
  const text = general.length ? general.join("; ") : Object.keys(error.fields || {}).length ? "" : error.message;
  if (box) box.textContent = text;
  else if (text) alert(text);
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((s) => (s.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  const box = form.querySelector("[data-form-error]");
  if (box) box.textContent = "";
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const formJson = (form) => Object.fromEntries(new FormData(form).entries());

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("zh-CN", { hour12: false });
}

// A confirmation step for anything that commands an aircraft or deletes something.
export function confirmAction(text) {
  return window.confirm(text);
}
