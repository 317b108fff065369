"""numpy arrays as ``.npy`` files (exact dtype and shape; object arrays are refused)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.visualizers.html import block, esc, preformatted

_FILENAME = "data.npy"


class NumpyMaterializer(BaseMaterializer):
    """Stores ``numpy.ndarray`` with ``numpy.save(allow_pickle=False)``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (np.ndarray,)

    def handle_return(self, data: np.ndarray[Any, Any]) -> None:
        if data.dtype.hasobject:
            raise TypeError(
                "NumpyMaterializer refuses object arrays: storing them would need pickle. "
                "Convert the array to a numeric or string dtype first."
            )
        if self.is_local:
            np.save(self.path / _FILENAME, data, allow_pickle=False)
            return
        with self.open(_FILENAME, "wb") as f:
            np.save(f, data, allow_pickle=False)

    def handle_input(self, data_type: type[Any]) -> np.ndarray[Any, Any]:
        # mmap would keep the file open; arrays are loaded whole, without pickle.
        if self.is_local:
            array: np.ndarray[Any, Any] = np.load(self.path / _FILENAME, allow_pickle=False)
            return array
        with self.open(_FILENAME, "rb") as f:
            streamed: np.ndarray[Any, Any] = np.load(f, allow_pickle=False)
        return streamed

    @classmethod
    def preview_html(cls, obj: Any) -> str:
        """Shape, dtype and the (truncated) repr of an array."""
        if not isinstance(obj, np.ndarray):
            return super().preview_html(obj)
        return block(
            f"ndarray <span class='zw-muted'>shape {esc(obj.shape)}, dtype {esc(obj.dtype)}</span>",
            preformatted(repr(obj)),
        )

    @classmethod
    def describe(cls, obj: Any) -> str:
        """``ndarray (2, 3)``."""
        shape = getattr(obj, "shape", None)
        return f"{type(obj).__name__} {shape}" if shape is not None else super().describe(obj)
