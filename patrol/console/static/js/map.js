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
