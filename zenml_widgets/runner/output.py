"""``Output(train=pd.DataFrame, test=pd.DataFrame)``: a step's named outputs."""

from __future__ import annotations

from typing import Any

SINGLE_OUTPUT = "output"


class Output:
    """Names and types of a step's several outputs, used as its return annotation.

    The step returns a tuple in the same order.
    """

    def __init__(self, **outputs: Any) -> None:
        if not outputs:
            raise ValueError("Output(...) needs at least one name=type pair")
        self.outputs: dict[str, Any] = dict(outputs)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(v, '__name__', v)}" for k, v in self.outputs.items())
        return f"Output({inner})"

    def items(self) -> list[tuple[str, Any]]:
        """``(name, type)`` pairs in declaration order."""
        return list(self.outputs.items())
