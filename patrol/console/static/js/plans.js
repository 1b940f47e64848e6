import { api, el, showErrors, clearErrors, confirmAction, site } from "./api.js";
import { makeMap, zoneLayers, fit, routeColor, nameTooltip, broadcastLayer, layerSwitch, LAYER } from "./map.js";

const map = makeMap("map");
const form = document.getElementById("plan-form");
const choices = document.getElementById("grid-choices");
const broadcastBox = document.getElementById("broadcast-choices");
let grids = [];
let messages = [];
const routes = L.layerGroup().addTo(map);
const broadcastZones = L.featureGroup().addTo(map);
const homeLayer = L.layerGroup().addTo(map);
let collection = { features: [] };
let home = null;

const minutes = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
const km = (m) => `${(m / 1000).toFixed(2)} km`;

async function init() {
  const [gridList, options, library] = await Promise.all([
    api("GET", "/api/grids"),
    api("GET", "/api/plans/options"),
    api("GET", "/api/messages").catch(() => []),
  ]);
  messages = library;
  collection = gridList;
  grids = collection.features.filter((f) => f.properties.kind === "grid");
  const zones = zoneLayers(collection);
  zones.grids.addTo(map);
  zones.noFly.addTo(map);
  fit(map, L.featureGroup([zones.grids, zones.noFly]));
  layerSwitch(map, { [LAYER.grids]: zones.grids, [LAYER.noFly]: zones.noFly, [LAYER.routes]: routes,
    [LAYER.broadcast]: broadcastZones, [LAYER.home]: homeLayer });
  form.camera.append(...options.cameras.map((c) => el("option", { value: c }, c)));
  choices.replaceChildren(...grids.map((f) =>
    el("label", {}, el("input", { type: "checkbox", name: "grid", value: f.id, onchange: drawBroadcast }), ` ${f.properties.name}`)));
  // the site's defaults (Admin page), until the operator types others
  form.alt.value = site.plan_alt_m ?? "";
  form.speed.value = site.plan_speed_ms ?? "";
  form.spacing.value = site.plan_spacing_m ?? "";
  if (site.home) {
    form.home_lat.value = site.home.lat;
    form.home_lon.value = site.home.lon;
    form.home_alt.value = site.home.alt;
  }
  setHome();
  await loadPlans();
}

function chosenGrids() {
  return [...form.querySelectorAll('input[name="grid"]:checked')].map((i) => Number(i.value));
}

function drawBroadcast() {
  const ids = chosenGrids();
  // keep what was picked for the zones still chosen
  const picked = new Map([...broadcastBox.querySelectorAll("select[data-zone]")]
    .map((s) => [Number(s.dataset.zone), new Set([...s.selectedOptions].map((o) => Number(o.value)))]));
  if (!ids.length) broadcastBox.replaceChildren(el("p", { class: "muted" }, "Pick grids first. 先选择网格。"));
  else broadcastBox.replaceChildren(...ids.map((id) => {
    const grid = grids.find((g) => g.id === id);
    return el("label", {}, `${grid.properties.name}: `,
      el("select", { multiple: true, "data-zone": id, "aria-label": `messages for ${grid.properties.name}`, onchange: drawZones },
        ...messages.map((m) => el("option", { value: m.id, selected: picked.get(id)?.has(m.id) }, `${m.title} (${m.language})`))));
  }));
  drawZones();
}

// the zones given a playlist on the form, shown on the map as the plan's broadcast zones
function drawZones() {
  const zones = request().broadcast.map((z) => ({ grid: grids.find((g) => g.id === z.grid_id).properties.name, messages: z.messages }));
  broadcastLayer(collection, { zones }, broadcastZones);
}

function num(name) {
  const v = form[name].value.trim();
  return v === "" ? null : Number(v);
}

function request() {
  const broadcast = [...broadcastBox.querySelectorAll("select[data-zone]")]
    .map((s) => ({ grid_id: Number(s.dataset.zone), messages: [...s.selectedOptions].map((o) => Number(o.value)) }))
    .filter((z) => z.messages.length);
  const body = {
    name: form.name.value, grid_ids: chosenGrids(), pattern: form.pattern.value, alt: num("alt"),
    speed: num("speed"), spacing: form.camera.value ? null : num("spacing"), camera: form.camera.value || null,
    overlap: num("overlap"), endurance_min: num("endurance_min"), loiter: num("loiter"),
    broadcast,
  };
  // no home typed: the township's (Admin page), or the API says one is needed
  if (num("home_lat") !== null || num("home_lon") !== null) {
    body.home = { lat: num("home_lat"), lon: num("home_lon"), alt: num("home_alt") ?? 0 };
  }
  for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
  return body;
}

function setHome() {
  const lat = num("home_lat"), lon = num("home_lon");
  if (lat === null || lon === null) return;
  home?.remove();
  home = L.circleMarker([lat, lon], { radius: 7, color: "#000", fillColor: "#ffd166", fillOpacity: 1 }).addTo(homeLayer);
  nameTooltip(home, "home 起飞点");
}
form.home_lat.addEventListener("change", setHome);
form.home_lon.addEventListener("change", setHome);
document.getElementById("pick-home").addEventListener("click", () => {
  map.getContainer().style.cursor = "crosshair";
  map.once("click", (e) => {
    form.home_lat.value = e.latlng.lat.toFixed(6);
    form.home_lon.value = e.latlng.lng.toFixed(6);
    map.getContainer().style.cursor = "";
    setHome();
  });
});

function show(result) {
  routes.clearLayers();
  for (const s of result.sorties) {
    const line = L.geoJSON(s.route, { style: { color: routeColor(s.number), weight: 3 } });
    nameTooltip(line, `sortie ${s.number}`);
    routes.addLayer(line);
  }
  const all = L.featureGroup(routes.getLayers());
  fit(map, all);
  const sum = result.summary;
  document.getElementById("stats").hidden = false;
  document.getElementById("stats-line").textContent =
    `${sum.sorties} sortie(s) 架次, ${km(sum.length_m)}, ${minutes(sum.flight_time_s)} in the air 飞行, ${sum.items} items 航点`;
  document.querySelector("#sortie-table tbody").replaceChildren(...result.sorties.map((s) =>
    el("tr", {}, el("td", {}, el("span", { style: `color:${routeColor(s.number)}` }, "■ "), `${s.number}`),
      el("td", {}, s.items), el("td", {}, km(s.length_m)), el("td", {}, minutes(s.flight_time_s)))));
  document.querySelector("#grid-table tbody").replaceChildren(...sum.grids.map((g) =>
    el("tr", {}, el("td", {}, g.name), el("td", {}, Math.round(g.area_m2).toLocaleString()), el("td", {}, g.coverage_pct))));
  document.getElementById("audibility").replaceChildren(...result.audibility.map((a) =>
    el("li", { class: a.ok ? "ok" : "bad" }, `${a.zone}: ${a.level_db} dB on the ground 地面声级 (audible up to 可听高度 ${a.max_alt_m} m)`)));
  document.getElementById("notes").replaceChildren(...[...result.notes, ...result.unreachable].map((n) => el("li", {}, n)));
}

async function submit(path) {
  clearErrors(form);
  document.getElementById("plan-problems").replaceChildren();
  try {
    const result = await api("POST", path, request());
    show(result);
    return result;
  } catch (error) {
    showErrors(form, error);
    document.getElementById("plan-problems").replaceChildren(...error.problems.map((p) => el("li", {}, p)));
    return null;
  }
}

document.getElementById("preview").addEventListener("click", () => submit("/api/plans/preview"));
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await submit("/api/plans")) await loadPlans();
});

async function loadPlans() {
  const plans = await api("GET", "/api/plans");
  document.querySelector("#plan-list tbody").replaceChildren(...plans.map((p) => {
    const links = [];
    for (let n = 1; n <= p.sorties; n++) {
      links.push(el("a", { href: `/api/plans/${p.id}/sorties/${n}/plan` }, `${n}.plan`), " ",
        el("a", { href: `/api/plans/${p.id}/sorties/${n}/waypoints` }, `${n}.waypoints`), " ");
    }
    if (p.broadcast) links.push(el("a", { href: `/api/plans/${p.id}/broadcast.zip` }, "broadcast.zip"));
    return el("tr", { "data-plan": p.name },
      el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); showSaved(p.id); } }, p.name)),
      el("td", {}, p.sorties), el("td", {}, ...links),
      el("td", {}, el("a", { href: `/fly?plan=${p.id}` }, "Fly 飞行 →"), " ",
        el("button", { type: "button", class: "danger", onclick: () => removePlan(p) }, "Delete 删除")));
  }));
}

async function showSaved(id) {
  const p = await api("GET", `/api/plans/${id}`);
  routes.clearLayers();
  broadcastLayer(collection, p.broadcast, broadcastZones);
  p.routes.forEach((r, i) => routes.addLayer(L.geoJSON(r, { style: { color: routeColor(i + 1), weight: 3 } })));
  fit(map, L.featureGroup(routes.getLayers()));
}

async function removePlan(p) {
  if (!confirmAction(`Delete plan ${p.name}? 删除航线 ${p.name}？`)) return;
  try { await api("DELETE", `/api/plans/${p.id}`); } catch (error) { alert(error.message); }
  await loadPlans();
}

init();
