import { api, el, showErrors, clearErrors, confirmAction } from "./api.js";
import { makeMap, zoneLayers, fit, layerSwitch, LAYER } from "./map.js";

const map = makeMap("map");
const grids = L.featureGroup().addTo(map);
const noFly = L.featureGroup().addTo(map);
layerSwitch(map, { [LAYER.grids]: grids, [LAYER.noFly]: noFly });
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
  const zones = zoneLayers(collection, (feature, shape) => {
    shape.on("pm:update", () => reshape(feature, shape));
  });
  grids.clearLayers().addLayer(zones.grids);
  noFly.clearLayers().addLayer(zones.noFly);
  if (fitMap) fit(map, L.featureGroup([zones.grids, zones.noFly]));
  listBody.replaceChildren(...collection.features.map((f) => row(f)));
}

function row(feature) {
  const p = feature.properties;
  const name = el("input", { value: p.name, "aria-label": "grid name", name: "name" });
  name.addEventListener("change", async () => {
    try { await api("PATCH", `/api/grids/${p.id}`, { name: name.value }); await load(); }
    catch (error) { alert(error.message); name.value = p.name; }
  });
  const kind = el("select", { "aria-label": `kind of ${p.name}`, onchange: () => rekind(p, kind) },
    el("option", { value: "grid", selected: p.kind === "grid" }, "grid 网格"),
    el("option", { value: "no_fly", selected: p.kind === "no_fly" }, "no-fly 禁飞区"));
  return el("tr", { "data-grid": p.name, "data-kind": p.kind },
    el("td", {}, name),
    el("td", {}, kind),
    el("td", {}, area(p.area_m2)),
    el("td", {}, el("button", { type: "button", class: "danger", onclick: () => remove(p) }, "Delete 删除")));
}

async function rekind(p, select) {
  const label = select.value === "no_fly" ? "a no-fly zone 禁飞区" : "a grid 网格";
  if (!confirmAction(`Make ${p.name} ${label}? 确认修改类型？`)) { select.value = p.kind; return; }
  try { await api("PATCH", `/api/grids/${p.id}`, { kind: select.value }); } catch (error) { alert(error.message); }
  await load();
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
  const kind = document.getElementById("draw-kind").value;
  const name = window.prompt(kind === "no_fly" ? "Name of the new no-fly zone 新禁飞区名称" : "Name of the new grid 新网格名称");
  const geometry = drawn.toGeoJSON().geometry;
  drawn.remove();
  if (!name) return;
  try { await api("POST", "/api/grids", { name, geometry, kind }); }
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
    const notes = [...result.repairs, ...result.left_out];
    problems.replaceChildren(...notes.map((r) => el("li", { class: "warn" }, r)));
    await load(true);
  } catch (error) {
    showErrors(form, error);
    problems.replaceChildren(...(error.problems).map((p) => el("li", {}, p)));
  }
});

load(true);
