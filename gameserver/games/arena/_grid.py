"""A uniform spatial hash: cells of `cell_size` keyed by one int, rebuilt from scratch each tick.

Queries return *candidates* (ids in every cell the query circle's bounding box touches);
the caller does the exact distance test. Cells are never empty, so rebuilding is just
clear() + insert() and costs one dict operation per entity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Cell (cx, cy) -> cx * _STRIDE + cy. Distinct cells may share a key only when |cy| >= 2**19,
# i.e. astronomically far away; a shared key just yields extra candidates, never wrong answers.
_STRIDE = 1 << 20
# Neighbour offsets (0, +1), (+1, -1), (+1, 0), (+1, +1): half of the 8, so each pair is seen once.
_FORWARD = (1, _STRIDE - 1, _STRIDE, _STRIDE + 1)
_EMPTY: tuple[int, ...] = ()


class SpatialGrid:
    __slots__ = ("_cells", "_inv", "cell_size")

    def __init__(self, cell_size: float) -> None:
        if not cell_size > 0.0:
            raise ValueError(f"cell_size must be positive, got {cell_size!r}")
        self.cell_size = float(cell_size)
        self._inv = 1.0 / self.cell_size
        self._cells: dict[int, list[int]] = {}

    def clear(self) -> None:
        self._cells.clear()

    def __len__(self) -> int:
        """Number of occupied cells (not entities)."""
        return len(self._cells)

    def insert(self, entity_id: int, x: float, y: float) -> None:
        """Index a point entity in the one cell containing (x, y)."""
        inv = self._inv
        key = math.floor(x * inv) * _STRIDE + math.floor(y * inv)
        cell = self._cells.get(key)
        if cell is None:
            self._cells[key] = [entity_id]
        else:
            cell.append(entity_id)

    def insert_circle(self, entity_id: int, x: float, y: float, r: float) -> None:
        """Index a large static circle in every cell its bounding box touches.

        Queries may then report the same id more than once.
        """
        inv = self._inv
        cells = self._cells
        y0 = math.floor((y - r) * inv)
        y1 = math.floor((y + r) * inv)
        for cx in range(math.floor((x - r) * inv), math.floor((x + r) * inv) + 1):
            base = cx * _STRIDE
            for cy in range(y0, y1 + 1):
                cell = cells.get(base + cy)
                if cell is None:
                    cells[base + cy] = [entity_id]
                else:
                    cell.append(entity_id)

    def query_point(self, x: float, y: float) -> Sequence[int]:
        """Ids in the single cell containing (x, y); pair with insert_circle for static shapes.

        Read-only view of the grid's own storage: do not modify it.
        """
        inv = self._inv
        return self._cells.get(math.floor(x * inv) * _STRIDE + math.floor(y * inv), _EMPTY)

    def close_pairs(self) -> list[tuple[int, int]]:
        """Sorted (a, b), a < b, for every two point entities in the same or adjacent cells.

        With cell_size >= the interaction distance this is a superset of the touching pairs,
        found in one sweep over the cells (each cell meets its 4 "forward" neighbours).
        """
        cells = self._cells
        out: list[tuple[int, int]] = []
        append = out.append
        for key, ids in cells.items():
            n = len(ids)
            for i in range(n - 1):
                a = ids[i]
                for j in range(i + 1, n):
                    b = ids[j]
                    append((a, b) if a < b else (b, a))
            for offset in _FORWARD:
                other = cells.get(key + offset)
                if other is None:
                    continue
                for a in ids:
                    for b in other:
                        append((a, b) if a < b else (b, a))
        out.sort()
        return out

    def query_radius(self, x: float, y: float, r: float) -> list[int]:
        """Ids in the cells overlapping the circle's bounding box, in cell then insertion order."""
        inv = self._inv
        cells = self._cells
        y0 = math.floor((y - r) * inv)
        y1 = math.floor((y + r) * inv) + 1
        out: list[int] = []
        for cx in range(math.floor((x - r) * inv), math.floor((x + r) * inv) + 1):
            base = cx * _STRIDE
            for cy in range(base + y0, base + y1):
                cell = cells.get(cy)
                if cell is not None:
                    out.extend(cell)
        return out
