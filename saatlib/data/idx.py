"""Read the IDX files of (Fashion-)MNIST, gzipped or not, with gzip + numpy."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from saatlib.data.errors import DataError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in IDX file ``path`` (``.gz`` files are decompressed).

    Fashion-MNIST images come back as uint8 (N, 28, 28) and labels as uint8 (N,).

    Raises:
        DataError: the file is truncated or not an IDX file (re-download it).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise DataError(f"cannot read {path}: {err}; the file is damaged, fetch it again") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number); fetch it again")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} ends inside its header; the file is truncated, fetch it again")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{path} holds {len(raw)} bytes but its header {shape} needs {expected}; "
                        "the file is truncated, fetch it again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
