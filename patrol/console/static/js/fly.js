import { api, el, showErrors, clearErrors, confirmAction, when } from "./api.js";
import { makeMap, zoneLayers, fit, routeColor, nameTooltip, broadcastLayer, drawFlags, layerSwitch, LAYER } from "./map.js";

const map = makeMap("map");
const form = document.getElementById("launch-form");
const list = document.getElementById("vehicles");
const markers = new Map();
const trails = new Map();
let plans = [];
let hasGrids = false;
let vehicles = [];
let gridCollection = { features: [] };
const planRoutes = L.layerGroup().addTo(map);
const vehicleLayer = L.layerGroup().addTo(map);
const broadcastZones = L.featureGroup().addTo(map);
const flagLayer = L.layerGroup().addTo(map);
const notices = new Map(); // sortie -> what the last command answered

const ACTIONS = [
  ["pause", "Pause 暂停", "Pause (hold position)? 暂停（悬停）？"],
  ["continue", "Continue 继续", "Continue the mission? 继续执行航线？"],
  ["rtl", "RTL 返航", "Return to launch and land? 返航并降落？"],
  ["land", "Land 降落", "Land here now? 立即原地降落？"],
];

async function init() {
  const [grids, planList] = await Promise.all([api("GET", "/api/grids"), api("GET", "/api/plans")]);
  gridCollection = grids;
  const zones = zoneLayers(grids);
  zones.grids.addTo(map);
  zones.noFly.addTo(map);
  fit(map, L.featureGroup([zones.grids, zones.noFly]));
  hasGrids = grids.features.length > 0;
  layerSwitch(map, { [LAYER.grids]: zones.grids, [LAYER.noFly]: zones.noFly, [LAYER.routes]: planRoutes,
    [LAYER.vehicles]: vehicleLayer, [LAYER.broadcast]: broadcastZones, [LAYER.flags]: flagLayer });
  plans = planList;
  form.plan_id.replaceChildren(...plans.map((p) => el("option", { value: p.id }, `${p.name} (${p.sorties} sortie 架次)`)));
  const wanted = new URLSearchParams(location.search).get("plan");
  if (wanted) form.plan_id.value = wanted;
  form.plan_id.addEventListener("change", drawSortieChoices);
  await refreshVehicles();
  await drawSortieChoices();
  listen();
  refreshLaunches();
  setInterval(refreshLaunches, 3000);
  refreshFlags();
  setInterval(refreshFlags, 5000);
}

async function refreshVehicles() {
  vehicles = (await api("GET", "/api/vehicles")).vehicles;
}

async function drawSortieChoices() {
  const plan = plans.find((p) => String(p.id) === form.plan_id.value);
  const box = document.getElementById("sortie-vehicles");
  if (!plan) return box.replaceChildren(el("p", { class: "muted" }, "Save a plan first. 请先保存航线。"));
  const free = vehicles.filter((v) => !v.busy);
  const choices = Array.from({ length: plan.sorties }, (_, i) =>
    el("label", {}, `Sortie 架次 ${i + 1} → `,
      el("select", { name: "connect", "data-sortie": i + 1 },
        ...vehicles.map((v) => el("option", { value: v.connect, disabled: v.busy, selected: free[i] === v },
          `${v.simulated ? `sim 模拟 v${v.sysid}` : v.connect}${v.busy ? " (busy 占用)" : ""}`)))));
  box.replaceChildren(...(vehicles.length ? choices : [el("p", { class: "warn" },
    "No vehicle to launch on 没有可用的飞机: start the console with patrol serve --connect URL (or --sim N).")]));
  const detail = await api("GET", `/api/plans/${plan.id}`);
  planRoutes.clearLayers();
  detail.routes.forEach((r, i) => {
    const line = L.geoJSON(r, { style: { color: routeColor(i + 1), weight: 2, opacity: 0.6, dashArray: "6 4" } });
    nameTooltip(line, `${plan.name} · sortie 架次 ${i + 1}`);
    planRoutes.addLayer(line);
  });
  broadcastLayer(gridCollection, detail.broadcast, broadcastZones);
  if (!hasGrids) fit(map, L.featureGroup(planRoutes.getLayers()));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const connects = [...form.querySelectorAll('select[name="connect"]')].map((s) => s.value);
  const plan = plans.find((p) => String(p.id) === form.plan_id.value);
  if (!plan || !confirmAction(`Launch ${plan.name} on ${connects.join(", ")}? 确认起飞？`)) return;
  try {
    await api("POST", "/api/patrols", { plan_id: plan.id, connects });
    await refreshVehicles();
    await drawSortieChoices();
    refreshLaunches();
  } catch (error) { showErrors(form, error); }
});

function listen() {
  const badge = document.getElementById("stream-state");
  const source = new EventSource("/api/vehicles/stream");
  source.onopen = () => { badge.textContent = "live 实时"; badge.className = "badge resolved"; };
  source.onerror = () => { badge.textContent = "reconnecting 重连中"; badge.className = "badge link-lost"; };
  source.onmessage = (event) => render(JSON.parse(event.data));
}

function telemetryLine(t) {
  if (!t) return "no telemetry yet 暂无遥测";
  const batt = t.voltage != null ? `${t.voltage.toFixed(1)} V${t.battery_remaining != null ? ` ${t.battery_remaining}%` : ""}` : "? V";
  return `${t.mode}${t.armed ? " armed 已解锁" : ""} · alt 高度 ${t.alt_rel ?? "?"} m · ${t.ground_speed ?? "?"} m/s · ${batt} · GPS ${t.gps_fix}/${t.satellites ?? "?"}`;
}

function card(s) {
  const lost = s.link_lost;
  const state = !s.controller ? el("span", { class: "badge dismissed" }, "controller ended 控制程序已结束")
    : lost ? el("span", { class: "badge link-lost", role: "alert" }, "LINK LOST 链路中断")
    : el("span", { class: "badge" }, s.status);
  const t = s.telemetry;
  return el("article", { class: `card vehicle${lost ? " lost" : ""}`, "data-sortie": s.sortie,
      "data-lat": t?.lat ?? "", "data-lon": t?.lon ?? "", "data-mode": t?.mode ?? "" },
    el("h2", {}, `Sortie 架次 ${s.sortie} · vehicle 飞机 ${s.sysid ?? "?"} · patrol 巡逻 ${s.patrol ?? "?"} `, state),
    el("p", { class: "muted" }, s.connect, lost && t?.heard_s_ago != null ? ` · last heard ${t.heard_s_ago} s ago 上次收到 ${t.heard_s_ago} 秒前` : ""),
    el("p", { class: "telemetry" }, telemetryLine(t)),
    s.progress ? el("p", { class: "progress" }, s.progress) : null,
    s.preflight.length ? el("details", { open: s.status === "preflight" },
      el("summary", {}, `Preflight 起飞前检查 (${s.preflight.filter((c) => c.ok).length}/${s.preflight.length} ok)`),
      el("ul", { class: "checks" }, ...s.preflight.map((c) => el("li", { class: c.ok ? "ok" : "bad" }, `${c.name}: ${c.detail}`)))) : null,
    s.controller ? el("div", { class: "actions" }, ...ACTIONS.map(([action, label, question]) =>
      el("button", { type: "button", class: action === "land" || action === "rtl" ? "danger" : "", "data-action": action,
        onclick: () => command(s.sortie, action, question) }, label))) : null,
    notices.has(s.sortie) ? el("p", { class: `notice ${notices.get(s.sortie).ok ? "ok" : "bad"}`, role: "status" }, notices.get(s.sortie).text) : null,
    el("details", {}, el("summary", {}, "Events 事件"),
      el("ul", { class: "checks" }, ...s.events.slice().reverse().map((e) => el("li", {}, `${new Date(e.at * 1000).toLocaleTimeString("zh-CN", { hour12: false })} ${e.text}`)))));
}

async function command(sortie, action, question) {
  if (!confirmAction(`Sortie 架次 ${sortie}: ${question}`)) return;
  const label = ACTIONS.find(([a]) => a === action)[1];
  try {
    const answer = await api("POST", `/api/vehicles/${sortie}/command`, { action });
    notices.set(sortie, { ok: true, text: `${label}: sent 已发送${answer.detail ? ` — ${answer.detail}` : ""}` });
  } catch (error) {
    notices.set(sortie, { ok: false, text: `${label}: refused 未执行 — ${error.message}` });
  }
  if (lastState) render(lastState);
}

// the flags still open (new, confirmed, assigned): where the camera saw something
async function refreshFlags() {
  try { drawFlags(await api("GET", "/api/flags/positions"), flagLayer); } catch { /* next time */ }
}

// one plain line at the top for every vehicle whose link is lost
function linkBanner(sorties) {
  const lost = sorties.filter((s) => s.controller && s.link_lost);
  const banner = document.getElementById("link-banner");
  banner.hidden = lost.length === 0;
  banner.replaceChildren(...lost.map((s) => el("p", {},
    `LINK LOST 链路中断 — vehicle 飞机 v${s.sysid ?? "?"} (sortie 架次 ${s.sortie})`,
    s.telemetry?.heard_s_ago != null ? `: last heard ${Math.round(s.telemetry.heard_s_ago)} s ago 已 ${Math.round(s.telemetry.heard_s_ago)} 秒无信号` : "",
    ". The aircraft follows its own failsafe (RTL); commands cannot reach it until the link returns. 飞机将按失控保护自动返航，链路恢复前无法下达指令。")));
}

let lastState = null;
function render(state) {
  lastState = state;
  linkBanner(state.sorties);
  const open = new Set([...list.querySelectorAll("details[open] > summary")].map((s) => s.closest("article").dataset.sortie + s.textContent.slice(0, 6)));
  list.replaceChildren(...(state.sorties.length ? state.sorties.map(card) : [el("p", { class: "muted" }, "No vehicle flying. 暂无飞行中的飞机。")]));
  list.querySelectorAll("details > summary").forEach((s) => {
    if (open.has(s.closest("article").dataset.sortie + s.textContent.slice(0, 6))) s.parentElement.open = true;
  });
  for (const s of state.sorties) {
    const t = s.telemetry;
    if (!t || t.lat == null) continue;
    const colour = s.link_lost ? "#c62828" : routeColor(s.sortie);
    let marker = markers.get(s.sortie);
    if (!marker) {
      marker = L.circleMarker([t.lat, t.lon], { radius: 8, weight: 2, color: "#000", fillOpacity: 1 }).addTo(vehicleLayer);
      marker.bindTooltip(el("span", {}, `v${s.sysid}`), { permanent: true, direction: "right" });
      markers.set(s.sortie, marker);
    }
    marker.setLatLng([t.lat, t.lon]).setStyle({ fillColor: colour, color: s.link_lost ? "#c62828" : "#000", weight: s.link_lost ? 4 : 2 });
    marker.setTooltipContent(el("span", {}, s.link_lost ? `v${s.sysid} LINK LOST 链路中断` : `v${s.sysid}`));
    marker.getElement?.()?.setAttribute("data-vehicle", s.sortie);
    let trail = trails.get(s.sortie);
    if (!trail) { trail = L.polyline([], { color: routeColor(s.sortie), weight: 3 }).addTo(vehicleLayer); trails.set(s.sortie, trail); }
    trail.setLatLngs(s.trail);
  }
}

async function refreshLaunches() {
  const { launches } = await api("GET", "/api/patrols");
  document.querySelector("#launches tbody").replaceChildren(...launches.slice(0, 10).map((l) =>
    el("tr", {},
      el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); showLog(l.id); } }, l.id)),
      el("td", {}, l.patrol_id ? el("a", { href: `/patrols/${l.patrol_id}` }, `${l.patrol_id}`) : "…"),
      el("td", {}, l.started_by), el("td", {}, when(l.started_at)),
      el("td", {}, l.running ? "running 运行中" : `exit 退出 ${l.exit_code ?? "?"}`))));
}

async function showLog(id) {
  const launch = await api("GET", `/api/launches/${id}`);
  const pre = document.getElementById("launch-log");
  pre.hidden = false;
  pre.textContent = launch.log.join("\n");
}

init();
