"""Regenerate the fictional sample township (run: .venv/bin/python data/sample/generate.py).

Shapes are drawn in metres around the take-off point (x east, y north) and written as WGS84
GeoJSON, KML and a QGroundControl .plan. Names and places are invented.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from shapely.affinity import scale
from shapely.geometry import LineString, Point, Polygon, mapping

from missions.projection import LocalFrame

HERE = Path(__file__).resolve().parent
HOME = (27.5700, 119.7100)
FRAME = LocalFrame(*HOME)

VILLAGES: dict[str, Polygon] = {
    "上洋村 Shangyang": Polygon(
        [(-1600, 300), (-900, 300), (-900, 700), (-1200, 700), (-1200, 1200), (-1600, 1200)]
    ),
    "下洋村 Xiayang": Polygon([(-1600, -500), (-900, -450), (-950, -1100), (-1650, -1050)]),
    "溪头村 Xitou": Polygon(
        [(-800, 300), (-200, 350), (-250, 900), (-820, 850)],
        [list(Point(-500, 600).buffer(110, quad_segs=6).exterior.coords)],
    ),
    "沿江村 Yanjiang": LineString(
        [(-1700, -250), (-1000, -180), (-300, -260), (400, -200), (1100, -280), (1700, -220)]
    ).buffer(60, cap_style="flat", quad_segs=4),
    "竹林村 Zhulin": Polygon(
        [
            (-100, 400),
            (500, 400),
            (500, 1000),
            (350, 1000),
            (350, 600),
            (50, 600),
            (50, 1000),
            (-100, 1000),
        ]
    ),
    "石门村 Shimen": Polygon(
        [
            (1000 + r * np.cos(a), 700 + r * np.sin(a))
            for a, r in zip(
                np.radians(np.arange(0, 360, 45)),
                [300, 260, 280, 310, 270, 300, 250, 290],
                strict=True,
            )
        ]
    ),
    "枫树村 Fengshu": Polygon([(1400, 100), (1800, 150), (1750, 900), (1550, 600), (1400, 800)]),
    "坑口村 Kengkou": Polygon([(-700, -450), (0, -420), (50, -900), (-300, -1100), (-750, -950)]),
    "后垟村 Houyang": Polygon([(150, -450), (800, -430), (850, -1000), (200, -1050)]),
    "新村 Xincun": Polygon([(-150, 50), (200, 50), (200, 300), (-150, 300)]),
    "岭脚村 Lingjiao": Polygon(
        [(950, -450), (1700, -400), (1650, -1100), (1200, -900), (1000, -1150)]
    ),
    "东坑村 Dongkeng": Polygon([(600, 100), (1300, 50), (1300, 350), (900, 380), (600, 350)]),
    "大坪村 Daping": Polygon([(-800, 1000), (-100, 1100), (-150, 1500), (-700, 1450)]),
}
HOVER = {  # market squares and village entrances for broadcast hovers (x, y metres)
    "新村 Xincun": [(20, 180)],
    "坑口村 Kengkou": [(-350, -550), (-150, -850)],
    "石门村 Shimen": [(1000, 700)],
}
NO_FLY: dict[str, Polygon] = {
    "中心小学 Central primary school": Polygon(
        [(-480, -700), (-360, -700), (-360, -610), (-480, -610)]
    ),
    "高压线走廊 110 kV power line": LineString([(100, -1250), (1350, -620)]).buffer(
        25, cap_style="flat"
    ),
}
# The simulated camera's people (patrol sim --camera): (x, y) drawn like the grids above.
# Gatherings sit in the grids the demo's first sorties sweep (新村, 溪头村) and elsewhere; a
# pair, people alone and walkers are there too, and must never be flagged.
GROUPS = [  # name, where, people, spread (metres on the ground)
    ("新村 market", (20, 180), 6, 1.5),
    ("新村 east lane", (150, 100), 3, 1.0),
    ("溪头村 bridge", (-350, 450), 4, 1.2),
    ("溪头村 threshing ground", (-650, 750), 8, 2.0),
    ("坑口村 entrance", (-350, -550), 5, 1.3),
    ("石门村 square", (1000, 700), 3, 1.0),
    ("新村 pair", (-100, 250), 2, 0.6),
]
ALONE = [(0, 80), (120, 260), (-700, 400), (-300, 800), (-150, -850)]
WALKERS = [  # path, speed m/s
    ([(-120, 120), (40, 120)], 1.3),
    ([(-720, 450), (-720, 700)], 1.1),
    ([(60, 40), (60, 270)], 1.4),
]


SCALE = 0.5  # drawn at twice the size; halved so the coverage demo fits in a few sorties


def to_geo(poly: Polygon) -> Polygon:
    return FRAME.geom_to_geo(scale(poly, SCALE, SCALE, origin=(0, 0)))


def rounded(geom: dict) -> dict:
    return json.loads(json.dumps(geom), parse_float=lambda s: round(float(s), 7))


def feature(name: str, poly: Polygon, **props) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, **props},
        "geometry": rounded(mapping(to_geo(poly))),
    }


def lonlat(xy: tuple[float, float]) -> list[float]:
    lon, lat = FRAME.to_geo(xy[0] * SCALE, xy[1] * SCALE)
    return [round(float(lon), 7), round(float(lat), 7)]


def write_geojson(path: Path, feats: list[dict]) -> None:
    doc = {"type": "FeatureCollection", "features": feats}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def kml_ring(poly_ring) -> str:
    return " ".join(f"{x:.7f},{y:.7f},0" for x, y in poly_ring.coords)


def kml_placemark(name: str, poly: Polygon) -> str:
    geo = to_geo(poly)
    inner = "".join(
        f"<innerBoundaryIs><LinearRing><coordinates>{kml_ring(r)}</coordinates></LinearRing>"
        "</innerBoundaryIs>"
        for r in geo.interiors
    )
    return (
        f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        f"{kml_ring(geo.exterior)}</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
        "</Placemark>"
    )


def main() -> None:
    feats = []
    for name, poly in VILLAGES.items():
        props = {"hover_points": [lonlat(p) for p in HOVER[name]]} if name in HOVER else {}
        feats.append(feature(name, poly, **props))
    write_geojson(HERE / "township.geojson", feats)
    write_geojson(HERE / "no-fly.geojson", [feature(n, p) for n, p in NO_FLY.items()])
    (HERE / "home.txt").write_text(f"{HOME[0]:.4f},{HOME[1]:.4f}\n")

    names = list(VILLAGES)
    north = "".join(kml_placemark(n, VILLAGES[n]) for n in names[:2])
    south = "".join(kml_placemark(n, VILLAGES[n]) for n in names[2:4])
    (HERE / "villages.kml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>样例乡镇</name>'
        f"<Folder><name>West</name>{north}<Folder><name>River</name>{south}</Folder></Folder>"
        "</Document></kml>\n",
        encoding="utf-8",
    )

    def latlon_ring(poly: Polygon) -> list[list[float]]:
        return [lonlat(p)[::-1] for p in list(poly.exterior.coords)[:-1]]

    plan = {
        "fileType": "Plan",
        "groundStation": "QGroundControl",
        "version": 1,
        "geoFence": {
            "circles": [],
            "polygons": [
                {"inclusion": True, "polygon": latlon_ring(VILLAGES[names[9]]), "version": 1}
            ],
            "version": 2,
        },
        "mission": {
            "cruiseSpeed": 8,
            "firmwareType": 3,
            "globalPlanAltitudeMode": 1,
            "hoverSpeed": 5,
            "items": [
                {
                    "type": "ComplexItem",
                    "complexItemType": "survey",
                    "version": 5,
                    "polygon": latlon_ring(VILLAGES[names[11]]),
                }
            ],
            "plannedHomePosition": [HOME[0], HOME[1], 200],
            "vehicleType": 2,
            "version": 2,
        },
        "rallyPoints": {"points": [], "version": 2},
    }
    (HERE / "villages.plan").write_text(json.dumps(plan, indent=4, ensure_ascii=False) + "\n")
    write_people(HERE / "people.json")


def write_people(path: Path) -> None:
    def place(xy: tuple[float, float]) -> dict:
        lon, lat = lonlat(xy)
        return {"lat": lat, "lon": lon}

    scenario = {
        "name": "样例乡镇 sample township",
        "seed": 7,
        "groups": [
            {"name": name, **place(xy), "people": n, "spread_m": spread}
            for name, xy, n, spread in GROUPS
        ],
        "people": [place(xy) for xy in ALONE],
        "walkers": [
            {"path": [lonlat(xy)[::-1] for xy in route], "speed_mps": speed}
            for route, speed in WALKERS
        ],
    }
    path.write_text(json.dumps(scenario, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
