"""A small numpy rasteriser for ``render_mode="rgb_array"``: roads, coverage, RSUs, vehicles."""

from __future__ import annotations

import numpy as np

from . import _core

SIZE = 512
MAX_CIRCLES = 64
BACKGROUND = (246, 246, 240)
ROAD = (190, 190, 190)
RSU = (20, 20, 20)
UNSERVED = (150, 150, 150)
PALETTE = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (23, 190, 207),
    ],
    dtype=np.uint8,
)


def _paint(img: np.ndarray, px: float, py: float, r: int, colour) -> None:
    h, w, _ = img.shape
    x0, x1 = max(int(px) - r, 0), min(int(px) + r + 1, w)
    y0, y1 = max(int(py) - r, 0), min(int(py) + r + 1, h)
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1] = colour


def render_rgb(env: _core.Env, size: int = SIZE) -> np.ndarray:
    """The current slot of ``env`` as an ``(size, size, 3)`` uint8 image (north up)."""
    area = env.scenario.area_m
    scale = (size - 1) / area

    def to_px(x: float, y: float) -> tuple[float, float]:
        return x * scale, (area - y) * scale

    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    # Roads: thick polylines.
    for line in env.roads():
        for (xa, ya), (xb, yb) in zip(line[:-1], line[1:]):
            (pa, qa), (pb, qb) = to_px(xa, ya), to_px(xb, yb)
            n = int(max(abs(pb - pa), abs(qb - qa))) + 1
            for t in np.linspace(0.0, 1.0, n):
                _paint(img, pa + t * (pb - pa), qa + t * (qb - qa), 2, ROAD)
    # Coverage circles (outlines, skipped for city-scale layouts) and RSUs.
    yy, xx = np.mgrid[0:size, 0:size]
    ring = max(1.0, 1.5 / scale)
    rsus = env.rsu_positions()
    for k, (x, y) in enumerate(rsus if len(rsus) <= MAX_CIRCLES else []):
        d = np.hypot(xx / scale - x, (size - 1 - yy) / scale - y)
        edge = np.abs(d - env.coverage_m) < ring
        img[edge] = PALETTE[k % len(PALETTE)]
    for x, y in env.rsu_positions():
        _paint(img, *to_px(x, y), 6, RSU)
    # Vehicles: coloured by serving RSU, larger with a pending request.
    pos, serving, pending = env.positions(), env.serving(), env.pending()
    for (x, y), r, p in zip(pos, serving, pending):
        colour = UNSERVED if r < 0 else PALETTE[r % len(PALETTE)]
        _paint(img, *to_px(x, y), 4 if p else 2, colour)
    return img
