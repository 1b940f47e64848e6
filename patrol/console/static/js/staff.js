import { api, el, showErrors, clearErrors, when } from "./api.js";
import { makeMap } from "./map.js";

const KIND = { gathering: "gathering 聚集", no_mask: "no mask 未戴口罩" };
const list = document.getElementById("tasks");
const where = document.getElementById("where");
const maps = new Map();
let me = null;
let lastSeen = "";

// great-circle distance (m) and initial bearing (degrees from north) from a to b
function distanceBearing(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const f1 = a.lat * rad, f2 = b.lat * rad, dl = (b.lon - a.lon) * rad;
  const h = Math.sin((f2 - f1) / 2) ** 2 + Math.cos(f1) * Math.cos(f2) * Math.sin(dl / 2) ** 2;
  const d = 2 * R * Math.asin(Math.sqrt(h));
  const y = Math.sin(dl) * Math.cos(f2);
  const x = Math.cos(f1) * Math.sin(f2) - Math.sin(f1) * Math.cos(f2) * Math.cos(dl);
  return { d, bearing: ((Math.atan2(y, x) / rad) + 360) % 360 };
}
const COMPASS = ["N 北", "NE 东北", "E 东", "SE 东南", "S 南", "SW 西南", "W 西", "NW 西北"];
const compass = (deg) => COMPASS[Math.round(deg / 45) % 8];

function directions(flag) {
  if (!me) return "your position is not known 位置未知";
  const { d, bearing } = distanceBearing(me, flag);
  const far = d >= 1000 ? `${(d / 1000).toFixed(2)} km` : `${Math.round(d)} m`;
  return `${far} · ${Math.round(bearing)}° ${compass(bearing)}`;
}

function task(f) {
  const done = f.state !== "assigned";
  const form = el("form", { class: "handled" },
    el("label", {}, "Note 备注 ", el("textarea", { name: "note", rows: 2, maxlength: 2000 })),
    el("label", {}, "Photo 照片 ", el("input", { type: "file", name: "photo", accept: "image/jpeg,image/*", capture: "environment" })),
    el("p", { class: "form-error", "data-form-error": true, role: "alert" }),
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Handled 已处理"),
      el("button", { type: "button", class: "secondary", "data-note": true }, "Add note 添加备注")));
  form.addEventListener("submit", (e) => { e.preventDefault(); send(f.id, "handled", form); });
  form.querySelector("[data-note]").addEventListener("click", () => send(f.id, "note", form));
  const mapBox = el("div", { class: "map small", id: `map-${f.id}` });
  const item = el("li", { class: "card", "data-flag": f.id, "data-state": f.state },
    el("h2", {}, `#${f.id} ${KIND[f.kind] || f.kind} × ${f.count} `, el("span", { class: `badge ${f.state}` }, f.state)),
    f.crop ? el("img", { class: "crop", src: f.crop, alt: "photo crop 截图" }) : null,
    el("p", { class: "directions", "data-lat": f.lat, "data-lon": f.lon }, directions(f)),
    el("p", { class: "muted" }, `${f.grid || ""} · ${f.lat.toFixed(6)}, ${f.lon.toFixed(6)} · ${when(f.last_seen)}`),
    mapBox,
    el("ul", { class: "checks" }, ...f.history.filter((e) => e.note || e.photo).map((e) =>
      el("li", {}, `${when(e.at)} ${e.by}: ${e.note}`, e.photo ? el("a", { href: e.photo, target: "_blank" }, " photo 照片") : null))),
    done ? null : form);
  return item;
}

async function downscale(file) {
  // phone photos are large: send at most 1600 px as JPEG
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
}

async function send(id, kind, form) {
  clearErrors(form);
  const data = new FormData();
  data.append("note", form.note.value);
  const file = form.photo.files[0];
  if (file) {
    try { data.append("photo", await downscale(file), "photo.jpg"); }
    catch { data.append("photo", file); }
  }
  try {
    await api("POST", `/api/staff/flags/${id}/${kind}`, data);
    lastSeen = "";
    await load();
  } catch (error) { showErrors(form, error); }
}

async function load() {
  const flags = await api("GET", "/api/staff/flags");
  const signature = JSON.stringify(flags.map((f) => [f.id, f.updated_at]));
  if (signature === lastSeen) return updateDirections();
  lastSeen = signature;
  maps.forEach((m) => m.remove());
  maps.clear();
  list.replaceChildren(...flags.map(task));
  document.getElementById("no-tasks").hidden = flags.length > 0;
  for (const f of flags) {
    const m = makeMap(`map-${f.id}`, { center: [f.lat, f.lon], zoom: 17 });
    L.circleMarker([f.lat, f.lon], { radius: 9, color: "#ef6c00" }).addTo(m);
    if (f.radius_m) L.circle([f.lat, f.lon], { radius: f.radius_m, weight: 1 }).addTo(m);
    maps.set(f.id, m);
  }
  drawMe();
}

const meMarkers = new Map();
function drawMe() {
  if (!me) return;
  maps.forEach((m, id) => {
    let marker = meMarkers.get(id);
    if (!marker || !m.hasLayer(marker)) {
      marker = L.circleMarker([me.lat, me.lon], { radius: 6, color: "#1565c0", fillOpacity: 1 }).addTo(m);
      meMarkers.set(id, marker);
    }
    marker.setLatLng([me.lat, me.lon]);
  });
}

function updateDirections() {
  document.querySelectorAll(".directions").forEach((p) => {
    p.textContent = directions({ lat: Number(p.dataset.lat), lon: Number(p.dataset.lon) });
  });
  drawMe();
}

if (navigator.geolocation) {
  navigator.geolocation.watchPosition(
    (pos) => {
      me = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      where.textContent = `You 您的位置: ${me.lat.toFixed(5)}, ${me.lon.toFixed(5)} (±${Math.round(pos.coords.accuracy)} m)`;
      updateDirections();
    },
    (error) => { where.textContent = `position not available 无法定位: ${error.message}`; },
    { enableHighAccuracy: true, maximumAge: 10000 },
  );
} else where.textContent = "this browser cannot tell its position 浏览器不支持定位";

load();
setInterval(load, 5000);
