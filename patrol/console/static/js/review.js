import { api, el, showErrors, clearErrors, when, confirmAction } from "./api.js";
import { makeMap, zoneLayers, nameTooltip, layerSwitch, LAYER, FLAG_COLORS } from "./map.js";

const KIND = { gathering: "gathering 聚集", no_mask: "no mask 未戴口罩" };
const STATE = { new: "new 新", confirmed: "confirmed 已确认", assigned: "assigned 已指派",
  resolved: "resolved 已处理", dismissed: "dismissed 已排除" };
const map = makeMap("map");
const filters = document.getElementById("filters");
const queue = document.getElementById("queue");
const form = document.getElementById("review-form");
const markers = L.layerGroup().addTo(map);
let selected = null;
let lastSeen = "";
let fitted = false;

function query() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(filters)) {
    if (!value) continue;
    // a local date-time from the picker, sent with this browser's UTC offset
    params.set(key, key === "since" || key === "until" ? new Date(value).toISOString() : value);
  }
  return params.toString();
}

async function load() {
  const q = query();
  document.getElementById("export-csv").href = `/api/flags/export.csv?${q}`;
  document.getElementById("export-geojson").href = `/api/flags/export.geojson?${q}`;
  let result;
  try { result = await api("GET", `/api/flags?${q}`); }
  catch (error) { document.getElementById("flag-count").textContent = error.message; return; }
  const signature = JSON.stringify(result.flags.map((f) => [f.id, f.updated_at]));
  if (signature === lastSeen) return;
  lastSeen = signature;
  const gridSelect = filters.grid;
  if (gridSelect.options.length === 1) gridSelect.append(...result.grids.map((g) => el("option", { value: g }, g)));
  document.getElementById("flag-count").textContent = `${result.count} flag(s) 个标记`;
  queue.replaceChildren(...result.flags.map((f) =>
    el("li", { class: "card", "data-flag": f.id, onclick: () => show(f.id) },
      f.thumbnail ? el("img", { class: "thumb", src: f.thumbnail, alt: "", loading: "lazy", style: "float:right" }) : null,
      el("strong", {}, `#${f.id} ${KIND[f.kind] || f.kind} × ${f.count}`), " ",
      el("span", { class: `badge ${f.state}` }, STATE[f.state] || f.state),
      el("div", { class: "muted" }, `${f.grid || "—"} · ${when(f.last_seen)}${f.assigned_to ? ` · → ${f.assigned_to}` : ""}`))));
  markers.clearLayers();
  for (const f of result.flags) {
    const m = L.circleMarker([f.lat, f.lon], { radius: 6 + Math.min(f.count, 10), color: FLAG_COLORS[f.kind] || "#444" });
    nameTooltip(m, `#${f.id} ${KIND[f.kind]} × ${f.count}`);
    m.on("click", () => show(f.id));
    markers.addLayer(m);
  }
  if (!fitted && result.flags.length) { map.fitBounds(L.featureGroup(markers.getLayers()).getBounds(), { padding: [30, 30], maxZoom: 17 }); fitted = true; }
  if (selected) show(selected, false);
}

async function show(id, scroll = true) {
  selected = id;
  const f = await api("GET", `/api/flags/${id}`);
  const box = document.getElementById("detail");
  box.hidden = false;
  box.dataset.flag = id;
  document.getElementById("detail-title").textContent = `#${f.id} ${KIND[f.kind] || f.kind} × ${f.count} · ${STATE[f.state]}`;
  const crop = document.getElementById("detail-crop");
  crop.hidden = !f.crop;
  if (f.crop) crop.src = f.crop;
  document.getElementById("detail-facts").textContent =
    `${f.grid || "—"} · ${f.lat.toFixed(6)}, ${f.lon.toFixed(6)} (±${f.error_m} m) · patrol 巡逻 ${f.patrol_id ?? "—"} · ` +
    `seen 发现 ${when(f.first_seen)} – ${when(f.last_seen)}, ${f.observations}× · confidence 置信度 ${f.confidence}`;
  document.getElementById("history").replaceChildren(...f.history.map((e) =>
    el("li", {}, `${when(e.at)} ${e.by}: ${e.action} ${e.from_state}→${e.to_state}${e.assignee ? ` (${e.assignee})` : ""}${e.note ? ` — ${e.note}` : ""} `,
      e.photo ? el("a", { href: e.photo, target: "_blank" }, "photo 照片") : null)));
  for (const button of form.querySelectorAll("button[data-action]")) {
    const allowed = { confirm: ["new"], assign: ["new", "confirmed", "assigned"], dismiss: ["new", "confirmed", "assigned"],
      reopen: ["dismissed", "resolved"], note: Object.keys(STATE) }[button.dataset.action];
    button.disabled = !allowed.includes(f.state);
  }
  map.panTo([f.lat, f.lon]);
  if (scroll) box.scrollIntoView({ block: "nearest" });
}

form.addEventListener("click", async (event) => {
  const action = event.target.dataset?.action;
  if (!action || !selected) return;
  clearErrors(form);
  const body = { action, note: form.note.value };
  if (action === "assign") body.assignee = form.assignee.value;
  if (action === "dismiss" && !confirmAction(`Dismiss flag ${selected}? 排除标记 ${selected}？`)) return;
  try {
    await api("POST", `/api/flags/${selected}/review`, body);
    form.note.value = "";
    lastSeen = "";
    await load();
  } catch (error) { showErrors(form, error); }
});

filters.addEventListener("change", () => { lastSeen = ""; fitted = false; load(); });
filters.addEventListener("submit", (e) => e.preventDefault());

async function init() {
  const [staff, grids] = await Promise.all([api("GET", "/api/users/staff"), api("GET", "/api/grids").catch(() => null)]);
  form.assignee.replaceChildren(...staff.map((name) => el("option", { value: name }, name)));
  const zones = grids ? zoneLayers(grids) : {};
  zones.grids?.addTo(map);
  zones.noFly?.addTo(map);
  layerSwitch(map, { [LAYER.grids]: zones.grids, [LAYER.noFly]: zones.noFly, [LAYER.flags]: markers });
  await load();
  setInterval(load, 3000); // the follow-up of each flag, as the staff changes it
}

init();
