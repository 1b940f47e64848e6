// Maps: Leaflet with the configured tile URL, or a plain base (outlines on a blank background)
// when none is configured or the tiles cannot be reached. Names go into tooltips as text nodes.
import { el, site } from "./api.js";

const COLORS = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#4e342e"];
export const routeColor = (n) => COLORS[(n - 1) % COLORS.length];
export const STYLES = {
  grid: { color: "#1565c0", weight: 2, fillOpacity: 0.08 },
  no_fly: { color: "#c62828", weight: 2, fillOpacity: 0.25, dashArray: "5 4" },
};

// where a map looks before it has anything to fit: the township's home, else the whole world
const HOME = site.home ? [site.home.lat, site.home.lon] : null;

export function makeMap(element, { center = HOME || [20, 110], zoom = HOME ? 14 : 3 } = {}) {
  const map = L.map(element).setView(center, zoom);
  const url = site.tile_url;
  const attribution = site.tile_attribution || "";
  if (!url) {
    plainBase(map, "plain base 无底图");
    return map;
  }
  const tiles = L.tileLayer(url, { attribution, maxZoom: 19 });
  let loaded = 0;
  let failed = 0;
  tiles.on("tileload", () => loaded++);
  tiles.on("tileerror", () => {
    failed++;
    if (failed >= 4 && loaded === 0) {
      map.removeLayer(tiles);
      plainBase(map, "tiles unreachable: plain base 底图无法访问");
    }
  });
  tiles.addTo(map);
  return map;
}

function plainBase(map, note) {
  map.getContainer().classList.add("plain-base");
  map.attributionControl.addAttribution(note);
}

export function nameTooltip(layer, text) {
  layer.bindTooltip(el("span", {}, text), { sticky: true });
}

export function gridsLayer(collection, onEach) {
  return L.geoJSON(collection, {
    style: (f) => STYLES[f.properties.kind] || STYLES.grid,
    onEachFeature: (f, layer) => {
      nameTooltip(layer, f.properties.name);
      onEach?.(f, layer);
    },
  });
}

export function fit(map, layer) {
  const bounds = layer.getBounds?.();
  if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
}

// ---- layers: grids, no-fly zones, planned routes, vehicles with trails, broadcast zones, flags
STYLES.broadcast = { color: "#ef6c00", weight: 3, fillColor: "#ffb74d", fillOpacity: 0.25, dashArray: "2 6" };
export const FLAG_COLORS = { gathering: "#e65100", no_mask: "#6a1b9a" };
const FLAG_KIND = { gathering: "gathering 聚集", no_mask: "no mask 未戴口罩" };

// Grids and no-fly zones as two layers (each may be switched off on its own).
export function zoneLayers(collection, onEach) {
  const only = (kind) => ({ ...collection, features: collection.features.filter((f) => f.properties.kind === kind) });
  return { grids: gridsLayer(only("grid"), onEach), noFly: gridsLayer(only("no_fly"), onEach) };
}

// The grids a plan broadcasts over, with each zone's playlist length in its tooltip.
export function broadcastLayer(collection, broadcast, into = L.featureGroup()) {
  into.clearLayers();
  const zones = new Map((broadcast?.zones || []).map((z) => [z.grid, z]));
  for (const f of collection.features) {
    const zone = zones.get(f.properties.name);
    if (!zone) continue;
    const shape = L.geoJSON(f, { style: STYLES.broadcast });
    nameTooltip(shape, `broadcast 喊话: ${f.properties.name} (${zone.messages.length} message(s) 条${zone.loop ? ", loop 循环" : ""})`);
    into.addLayer(shape);
  }
  return into;
}

// Flags as circles sized by their count; ``into`` is emptied first.
export function drawFlags(flags, into, onClick) {
  into.clearLayers();
  for (const f of flags) {
    const m = L.circleMarker([f.lat, f.lon], { radius: 6 + Math.min(f.count, 10), color: FLAG_COLORS[f.kind] || "#444", weight: 2, fillOpacity: 0.35 });
    nameTooltip(m, `#${f.id} ${FLAG_KIND[f.kind] || f.kind} × ${f.count}${f.state ? ` · ${f.state}` : ""}`);
    if (onClick) m.on("click", () => onClick(f));
    into.addLayer(m);
  }
  return into;
}

// A layer switch for the overlays (fixed labels, ours; never data); folded on a phone.
export function layerSwitch(map, overlays) {
  const shown = Object.fromEntries(Object.entries(overlays).filter(([, layer]) => layer));
  return L.control.layers(null, shown, { collapsed: window.innerWidth < 800, position: "topright" }).addTo(map);
}

export const LAYER = {
  grids: "Grids 网格", noFly: "No-fly zones 禁飞区", routes: "Planned routes 计划航线",
  flown: "Routes flown 实际航迹", vehicles: "Vehicles and trails 飞机与航迹",
  broadcast: "Broadcast zones 喊话区", flags: "Flags 标记", home: "Home 起飞点",
};
