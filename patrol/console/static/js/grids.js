import { api, el, showErrors, clearErrors, confirmAction } from "./api.js";
import { makeMap, gridsLayer, fit } from "./map.js";

const map = makeMap("map");
let layer = null;
const listBody = document.querySelector("#grid-list tbody");

map.pm.addControls({
  position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
  drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false, dragMode: false,
  removalMode: false,
});

function area(m2) {
  return m2 >= 1e6 ? `${(m2 / 1e6).toFixed(2)} km²` : `${Math.round(m2).toLocaleString()} m²`;
}

async function load(fitMap = false) {
  const collection = await api("GET", "/api/grids");
  layer?.remove();
  layer = gridsLayer(collection, (feature, shape) => {
    shape.on("pm:update", () => reshape(feature, shape));
  }).addTo(map);
  if (fitMap) fit(map, layer);
  listBody.replaceChildren(...collection.features.map((f) => row(f)));
}

function row(feature) {
  const p = feature.properties;
  const name = el("input", { value: p.name, "aria-label": "grid name", name: "name" });
  name.addEventListener("change", async () => {
    try { await api("PATCH", `/api/grids/${p.id}`, { name: name.value }); await load(); }
    catch (error) { alert(error.message); name.value = p.name; }
  });
  return el("tr", { "data-grid": p.name },
    el("td", {}, name),
    el("td", {}, p.kind === "no_fly" ? "no-fly 禁飞" : "grid 网格"),
    el("td", {}, area(p.area_m2)),
    el("td", {}, el("button", { type: "button", class: "danger", onclick: () => remove(p) }, "Delete 删除")));
}

async function remove(p) {
  if (!confirmAction(`Delete ${p.name}? 删除 ${p.name}？`)) return;
  try { await api("DELETE", `/api/grids/${p.id}`); } catch (error) { alert(error.message); }
  await load();
}

async function reshape(feature, shape) {
  try { await api("PATCH", `/api/grids/${feature.id}`, { geometry: shape.toGeoJSON().geometry }); }
  catch (error) { alert(error.message); }
  await load();
}

map.on("pm:create", async ({ layer: drawn }) => {
  const name = window.prompt("Name of the new grid 新网格名称");
  const geometry = drawn.toGeoJSON().geometry;
  drawn.remove();
  if (!name) return;
  try { await api("POST", "/api/grids", { name, geometry }); }
  catch (error) { alert(error.message); }
  await load();
});

const form = document.getElementById("import-form");
const problems = document.getElementById("import-problems");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  problems.replaceChildren();
  try {
    const result = await api("POST", "/api/grids/import", new FormData(form));
    form.reset();
    problems.replaceChildren(...result.repairs.map((r) => el("li", { class: "warn" }, r)));
    await load(true);
  } catch (error) {
    showErrors(form, error);
    problems.replaceChildren(...(error.problems).map((p) => el("li", {}, p)));
  }
});

load(true);
