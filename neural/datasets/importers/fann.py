"""The FANN training-data text format: a ``num_data num_input num_output`` header, then for each
sample one line of inputs and one line of outputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from neural.datasets import limits
from neural.datasets.importers.base import Importer, Probe, register
from neural.errors import DataError

HEADER = re.compile(rb"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$")


@register
class FannImporter(Importer):
    name = "fann"
    description = "FANN training data: 'num_data num_input num_output' header, then input and output lines"
    default_target = "y0"
    priority = 7

    def sniff(self, probe: Probe) -> bool:
        return bool(HEADER.match(probe.head.split(b"\n", 1)[0]))

    def read(self, path: Path) -> pd.DataFrame:
        with path.open("rb") as fh:
            header = HEADER.match(fh.readline())
        if header:  # the shape it promises, checked before any line is read
            n_data, n_in, n_out = (int(v) for v in header.groups())
            limits.check_shape(n_data, n_in + n_out, what="FANN file")
        with path.open("r", encoding="ascii", errors="strict") as fh:
            try:
                lines = [(n, ln.split()) for n, ln in enumerate(fh, start=1) if ln.strip()]
            except UnicodeDecodeError as exc:
                raise DataError("FANN file is not plain ASCII text", field="file") from exc
        if not lines or not HEADER.match(" ".join(lines[0][1]).encode()):
            raise DataError("FANN: line 1 must be 'num_data num_input num_output'", field="file")
        n_data, n_in, n_out = (int(v) for v in lines[0][1])
        body = lines[1:]
        if len(body) != 2 * n_data:
            raise DataError(
                f"FANN: header promises {n_data} samples ({2 * n_data} lines), file has {len(body)} data lines",
                field="file",
            )
        values = np.empty((n_data, n_in + n_out))
        for i in range(n_data):
            for (number, fields), expected, offset in ((body[2 * i], n_in, 0), (body[2 * i + 1], n_out, n_in)):
                if len(fields) != expected:
                    raise DataError(f"FANN: line {number} has {len(fields)} values, expected {expected}", field="file")
                try:
                    values[i, offset : offset + expected] = [float(v) for v in fields]
                except ValueError as exc:
                    raise DataError(f"FANN: line {number} has a value that is not a number", field="file") from exc
        columns = [f"x{j}" for j in range(n_in)] + [f"y{j}" for j in range(n_out)]
        return pd.DataFrame(values, columns=columns)
