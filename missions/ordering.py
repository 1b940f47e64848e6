"""Order many grids and pick each one's entry and exit to keep transits short.

Nearest neighbour from home, then rounds of 2-opt (a reversed run of grids also reverses each
grid's path), or-opt (move one grid, in its best variant, to its best place) and a per-grid
variant choice, until no move helps. Transit costs are straight-line distances.
"""

from __future__ import annotations

import numpy as np

MAX_ROUNDS = 8
NEIGHBOURS = 10  # or-opt tries to put a grid next to one of its nearest grids
MIN_GAIN = 5e-3  # stop when a round shortens the tour by less than this share


def _d(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.hypot(p[..., 0] - q[..., 0], p[..., 1] - q[..., 1])


def order_grids(
    home: np.ndarray,
    variants: list[list[np.ndarray]],
    costs: list[list[float]] | None = None,
) -> list[tuple[int, int]]:
    """Visit order as (grid index, variant index). ``variants[g][2i + 1]`` must be
    ``variants[g][2i]`` reversed; ``costs`` are the variants' own costs (metres)."""
    if not variants:
        return []
    grid_of = np.concatenate([[g] * len(v) for g, v in enumerate(variants)])
    first = np.cumsum([0] + [len(v) for v in variants])[:-1]
    local = np.concatenate([np.arange(len(v)) for v in variants])
    entry = np.array([p[0] for v in variants for p in v], dtype=float)
    exit_ = np.array([p[-1] for v in variants for p in v], dtype=float)
    own = (
        np.concatenate([np.asarray(c, dtype=float) for c in costs])
        if costs is not None
        else np.zeros(len(entry))
    )
    rev = first[grid_of] + (local ^ 1)  # variant 2i <-> 2i + 1 within each grid
    home = np.asarray(home, dtype=float)

    # nearest neighbour
    seq: list[int] = []
    used = np.zeros(len(variants), dtype=bool)
    cur = home
    for _ in range(len(variants)):
        score = _d(cur, entry) + own
        score[used[grid_of]] = np.inf
        v = int(np.argmin(score))
        seq.append(v)
        used[grid_of[v]] = True
        cur = exit_[v]
    s = np.array(seq)

    centres = (entry[first] + exit_[first]) / 2
    k = min(NEIGHBOURS, len(variants) - 1)
    dist = _d(centres[:, None], centres[None])
    np.fill_diagonal(dist, np.inf)
    near = np.argsort(dist, axis=1)[:, :k] if k > 0 else np.zeros((len(variants), 0), int)
    cost = route_cost(s, entry, exit_, own, home)
    for _ in range(MAX_ROUNDS):
        changed = _two_opt(s, entry, exit_, rev, home)
        changed |= _or_opt(s, entry, exit_, own, home, grid_of, first, variants, near)
        changed |= _best_variants(s, entry, exit_, own, home, grid_of, first, variants)
        new_cost = route_cost(s, entry, exit_, own, home)
        if not changed or new_cost > cost * (1 - MIN_GAIN):
            break
        cost = new_cost
    return [(int(grid_of[v]), int(local[v])) for v in s]


def route_cost(seq, entry, exit_, own, home) -> float:
    pts_in = np.vstack([entry[seq], home[None]])
    pts_out = np.vstack([home[None], exit_[seq]])
    return float(_d(pts_out, pts_in).sum() + own[seq].sum())


def _two_opt(s, entry, exit_, rev, home) -> bool:
    n = len(s)
    changed = False

    def tour() -> tuple[np.ndarray, ...]:
        """Each visit's entry and exit, the entry after it, and the link from one to it."""
        E, X = entry[s], exit_[s]
        nxt_e = np.vstack([E[1:], home[None]])
        return E, X, nxt_e, _d(X, nxt_e)

    E, X, nxt_e, link = tour()
    for i in range(n):
        prev_x = X[i - 1] if i else home
        delta = _d(prev_x, X[i:]) + _d(E[i], nxt_e[i:]) - _d(prev_x, E[i]) - link[i:]
        k = int(np.argmin(delta))
        if delta[k] < -1e-6:
            s[i : i + k + 1] = rev[s[i : i + k + 1][::-1]]
            changed = True
            E, X, nxt_e, link = tour()
    return changed


def _or_opt(s, entry, exit_, own, home, grid_of, first, variants, near) -> bool:
    """Move single grids next to one of their nearest neighbours when that is shorter."""
    changed = False
    n = len(s)
    if n < 3:
        return False
    pos = np.empty(len(variants), dtype=int)  # each grid's place in s
    pos[grid_of[s]] = np.arange(n)
    # home as one more variant, H, entered and left at home: s_ext[-1] and s_ext[n]
    H = len(entry)
    ent = np.vstack([entry, home[None]])
    ext = np.vstack([exit_, home[None]])
    s_ext = np.append(s, H)
    cands = [np.arange(first[g], first[g] + len(v)) for g, v in enumerate(variants)]
    ends = [(entry[c][None], exit_[c][None], own[c][None]) for c in cands]
    for i in range(n):
        v = s[i]
        g = grid_of[v]
        at = pos[near[g]]
        at -= at > i  # their places once grid g is taken out
        # edge m of the tour without grid g runs from its place m - 1 to its place m (home
        # before the first and after the last); its place j is place j + (j >= i) of s.
        # Edge i is where grid g is now.
        edges = np.unique(np.concatenate([at, at + 1, [0, i, n - 1]]))
        outs = ext[s_ext[edges - 1 + (edges - 1 >= i)]][:, None]
        ins = ent[s_ext[edges + (edges >= i)]][:, None]
        e, x, o = ends[g]
        add = _d(outs, e) + o + _d(x, ins) - _d(outs, ins)
        best = int(np.argmin(add))
        m, c = divmod(best, add.shape[1])
        if add.flat[best] < add[np.searchsorted(edges, i), v - first[g]] - 1e-6:
            s[:] = np.insert(np.delete(s, i), edges[m], cands[g][c])
            s_ext[:n] = s
            pos[grid_of[s]] = np.arange(n)
            changed = True
    return changed


def _best_variants(s, entry, exit_, own, home, grid_of, first, variants) -> bool:
    changed = False
    n = len(s)
    for i in range(n):
        prev_x = exit_[s[i - 1]] if i else home
        next_e = entry[s[i + 1]] if i + 1 < n else home
        g = grid_of[s[i]]
        cand = np.arange(first[g], first[g] + len(variants[g]))
        cost = _d(prev_x, entry[cand]) + own[cand] + _d(exit_[cand], next_e)
        best = cand[int(np.argmin(cost))]
        cur = cost[s[i] - first[g]]
        if best != s[i] and cost.min() < cur - 1e-6:
            s[i] = best
            changed = True
    return changed
