import { api, el, when, showErrors, clearErrors } from "./api.js";
import { makeMap, zoneLayers, routeColor, nameTooltip, fit, broadcastLayer, drawFlags, layerSwitch, LAYER } from "./map.js";

const id = document.getElementById("report").dataset.patrol;
const map = makeMap("map");
const KIND = { gathering: "gathering 聚集", no_mask: "no mask 未戴口罩" };
const minutes = (a, b) => (a && b ? `${Math.round((new Date(b) - new Date(a)) / 60000)} min` : "");

async function load() {
  const [r, grids] = await Promise.all([api("GET", `/api/patrols/${id}/report`), api("GET", "/api/grids").catch(() => null)]);
  const zones = grids ? zoneLayers(grids) : {};
  zones.grids?.addTo(map);
  zones.noFly?.addTo(map);
  document.getElementById("report-title").textContent = `Patrol 巡逻 ${r.id}: ${r.name}`;
  document.getElementById("report-line").textContent = `${when(r.created_at)} · ${r.status} · ${r.sorties.length} sortie(s) 架次 · ${r.flags.length} flag(s) 标记`;
  const planned = L.featureGroup().addTo(map);
  const flownLayer = L.featureGroup().addTo(map);
  r.sorties.forEach((s, i) => {
    const colour = routeColor(i + 1);
    const line = L.geoJSON(s.planned, { style: { color: colour, weight: 2, opacity: 0.6, dashArray: "6 4" } });
    nameTooltip(line, `sortie 架次 ${s.id} planned 计划航线`);
    planned.addLayer(line);
    if (s.flown.coordinates.length > 1) {
      const flown = L.geoJSON(s.flown, { style: { color: colour, weight: 4 } });
      nameTooltip(flown, `sortie 架次 ${s.id} flown 实际航迹`);
      flownLayer.addLayer(flown);
    }
  });
  const flags = drawFlags(r.flags, L.featureGroup().addTo(map));
  // the zones the aircraft broadcast over (from the play logs)
  const played = [...new Set(r.sorties.flatMap((s) => s.plays.map((p) => p.zone)))];
  const zonesPlayed = grids ? broadcastLayer(grids, { zones: played.map((grid) => ({ grid, messages: [...new Set(r.sorties.flatMap((s) => s.plays).filter((p) => p.zone === grid).map((p) => p.title))] })) }).addTo(map) : null;
  layerSwitch(map, { [LAYER.grids]: zones.grids, [LAYER.noFly]: zones.noFly, [LAYER.routes]: planned,
    [LAYER.flown]: flownLayer, [LAYER.broadcast]: zonesPlayed, [LAYER.flags]: flags });
  fit(map, L.featureGroup([planned, flownLayer, flags]));
  document.querySelector("#sorties tbody").replaceChildren(...r.sorties.map((s) =>
    el("tr", {}, el("td", {}, s.id), el("td", {}, `v${s.vehicle ?? "?"} ${s.connect}`), el("td", {}, s.status),
      el("td", {}, `${(s.distance_m / 1000).toFixed(2)} km, ${s.waypoints_reached} waypoints 航点`),
      el("td", {}, `${when(s.started_at)} ${minutes(s.started_at, s.ended_at)}`),
      el("td", {}, s.reason, ...s.events.map((e) => el("div", { class: "muted" }, `${when(e.at)} ${e.detail}`))))));
  const plays = r.sorties.flatMap((s) => s.plays.map((p) => ({ ...p, sortie: s.id })));
  document.querySelector("#plays tbody").replaceChildren(...(plays.length ? plays.map((p) =>
    el("tr", {}, el("td", {}, when(p.start)), el("td", {}, p.sortie), el("td", {}, p.zone), el("td", {}, p.title),
      el("td", {}, `${p.heard_s ?? "?"} s${p.finished ? "" : ` (${p.reason})`}`))) : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no plays logged 无播放记录"))]));
  document.querySelector("#flags tbody").replaceChildren(...(r.flags.length ? r.flags.map((f) =>
    el("tr", {}, el("td", {}, f.id), el("td", {}, `${KIND[f.kind] || f.kind} × ${f.count}`), el("td", {}, f.grid || "—"),
      el("td", {}, el("span", { class: `badge ${f.state}` }, f.state), f.assigned_to ? ` → ${f.assigned_to}` : ""),
      el("td", {}, f.follow_up))) : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no flags 无标记"))]));
  const select = document.querySelector("#plays-upload select");
  select.replaceChildren(...r.sorties.map((s) => el("option", { value: s.id }, `${s.id}`)));
}

document.getElementById("print").addEventListener("click", () => window.print());
const upload = document.getElementById("plays-upload");
upload.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(upload);
  const data = new FormData();
  if (upload.file.files[0]) data.append("file", upload.file.files[0]);
  try { await api("POST", `/api/patrols/${id}/sorties/${upload.sortie.value}/plays`, data); location.reload(); }
  catch (error) { showErrors(upload, error); }
});
load();
