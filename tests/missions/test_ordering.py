from __future__ import annotations

import itertools

import numpy as np

from missions.ordering import order_grids


def tour_length(home, variants, order) -> float:
    cur, total = home, 0.0
    for g, v in order:
        path = variants[g][v]
        total += np.hypot(*(path[0] - cur)) + np.hypot(*np.diff(path, axis=0).T).sum()
        cur = path[-1]
    return total + float(np.hypot(*(cur - home)))


def segment_grids(rng, n):
    out = []
    for _ in range(n):
        a = rng.uniform(-1000, 1000, 2)
        b = a + rng.uniform(-150, 150, 2)
        seg = np.array([a, b])
        out.append([seg, seg[::-1].copy()])
    return out


def brute_force(home, variants) -> float:
    n = len(variants)
    best = np.inf
    for perm in itertools.permutations(range(n)):
        for flips in itertools.product((0, 1), repeat=n):
            best = min(best, tour_length(home, variants, list(zip(perm, flips, strict=True))))
    return best


def test_visits_every_grid_once():
    rng = np.random.default_rng(1)
    variants = segment_grids(rng, 40)
    order = order_grids(np.zeros(2), variants)
    assert sorted(g for g, _ in order) == list(range(40))


def test_close_to_optimal_on_small_instances():
    rng = np.random.default_rng(3)
    home = np.zeros(2)
    ratios = []
    for _ in range(4):
        variants = segment_grids(rng, 6)
        got = tour_length(home, variants, order_grids(home, variants))
        ratios.append(got / brute_force(home, variants))
    assert max(ratios) < 1.05


def test_better_than_nearest_neighbour_alone():
    rng = np.random.default_rng(5)
    home = np.zeros(2)
    variants = segment_grids(rng, 60)
    # plain nearest neighbour over entries, for comparison
    cur, left, nn = home, set(range(60)), []
    while left:
        g, v = min(
            ((g, v) for g in left for v in (0, 1)),
            key=lambda gv: np.hypot(*(variants[gv[0]][gv[1]][0] - cur)),
        )
        nn.append((g, v))
        left.remove(g)
        cur = variants[g][v][-1]
    assert tour_length(home, variants, order_grids(home, variants)) < tour_length(
        home, variants, nn
    )
