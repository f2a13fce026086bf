"""The edit table's band near its diagonal as a small automaton: one lookup per letter.

The failure this exists to prevent: a typo search whose every letter of every
candidate costs a dozen or more numpy operations (a bit-parallel column step,
then its bound check), so that a query's time is the number of numpy calls,
not the work. Within k edits only the cells within k of the diagonal matter
(the others are more than k), and a cell's value past k is only "too many",
so the band of one column of the optimal-string-alignment table (a swap of
two neighbours is one edit), with what a swap needs from the column before,
takes few values: 12 for k = 1, 124 for k = 2. Which one comes next depends
only on the band and on which nearby query letters the text's next letter
equals (its `chi` bits), not on the query or the position, so the states and
their successors are enumerated once (Mihov and Schulz's universal
Levenshtein automaton, here with swaps and cut to k + 1).

A state is (band, swaps): band[r + k] = D[j + r][j] for the text's first j
letters against the query's first j + r, and swaps[r + k] what a swap into
column j + 1 would give at offset r. Rows above the query's first are
too many; rows past its last never feed rows before it, so they need no care.

Pure: tables built from k alone.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class Band:
    """The automaton for at most k edits, a state held as its row in `next` (id << chi_bits).

    So the state after a letter is `next[state | chi]`: one OR and one take.
    """

    k: int
    chi_bits: int  # how many chi bits a letter has (query positions j - k - 2 .. j + k)
    next: np.ndarray  # int64 (states << chi_bits): the successor of state | chi
    value: np.ndarray  # int8 (2k + 1, states << chi_bits): [r + k] the band's value at offset r
    least: np.ndarray  # int8 (2k + 1, states << chi_bits): [c] the least of its values 0..c
    central: np.ndarray  # int8 (states << chi_bits): the least of its values at offsets -1..1


@cache
def band(k: int) -> Band:
    """The automaton for k edits (built once per process: 0.3 s for k = 2)."""
    width, too_many = 2 * k + 1, k + 1
    start = (too_many,) * k + tuple(range(k + 1)) + (too_many,) * width
    ids = {start: 0}
    states = [start]
    successors = []
    i = 0
    while i < len(states):
        row = []
        for chi in range(1 << (2 * k + 3)):
            after = _step(states[i], chi, k)
            if after not in ids:
                ids[after] = len(states)
                states.append(after)
            row.append(ids[after])
        successors.append(row)
        i += 1
    bits = 2 * k + 3
    bands = np.array([s[:width] for s in states], dtype=np.int8).repeat(1 << bits, axis=0)
    return Band(
        k=k,
        chi_bits=bits,
        next=np.array(successors, dtype=np.int64).ravel() << bits,
        value=np.ascontiguousarray(bands.T),
        least=np.ascontiguousarray(np.minimum.accumulate(bands, axis=1).T),
        central=bands[:, k - 1 : k + 2].min(axis=1),
    )


def _step(state: tuple[int, ...], chi: int, k: int) -> tuple[int, ...]:
    """The state after one more text letter, which equals the query's letter j - 1 + s
    where chi's bit s + k + 1 is set (s = -k - 1 .. k + 1)."""
    width, too_many = 2 * k + 1, k + 1
    old, swaps = state[:width], state[width:]

    def equal(s: int) -> bool:
        return bool(chi >> (s + k + 1) & 1)

    new = [too_many] * width
    for r in range(-k, k + 1):
        v = old[r + k] + (0 if equal(r) else 1)  # (substitute or keep)
        if r > -k:
            v = min(v, new[r - 1 + k] + 1)  # (a query letter left out)
        if r < k:
            v = min(v, old[r + 1 + k] + 1)  # (a text letter left out)
        if equal(r - 1):
            v = min(v, swaps[r + k])  # (two neighbours swapped)
        new[r + k] = min(v, too_many)
    # A swap into the next column at offset r: this column's letter is the
    # query's letter at r + 1 then, and the cell two columns back is old[r].
    after = [min(old[r + k] + 1, too_many) if equal(r + 1) else too_many for r in range(-k, k + 1)]
    return (*new, *after)


def chi_table(qb: bytes, k: int) -> np.ndarray:
    """[j][x]: the chi bits of byte x as text letter j (1 .. len(qb) + k), as int64.

    Bit s + k + 1 is set when the query's letter j - 1 + s is x.
    """
    bits: dict[int, int] = {}
    for i, byte in enumerate(qb):
        bits[byte] = bits.get(byte, 0) | 1 << (i + k + 2)
    table = np.zeros((len(qb) + k + 1, 256), dtype=np.int64)
    # (only the query's own bytes have bits: one column each, all depths at once)
    shifts = np.arange(len(qb) + k + 1, dtype=np.int64)[:, None]
    table[:, list(bits)] = (np.array(list(bits.values())) >> shifts) & ((1 << (2 * k + 3)) - 1)
    return table
