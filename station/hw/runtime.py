"""Build a TFLite interpreter from ai_edge_litert or tflite_runtime, whichever is asked for and works.

"auto" tries ai_edge_litert first (wheels for Python 3.11-3.13, numpy 2), then tflite_runtime
(Python <= 3.11, numpy<2). A runtime can import yet fail when the interpreter is built (tflite
-runtime 2.14 under numpy 2), so "works" means an interpreter was built and allocated.
"""

from __future__ import annotations

import importlib
from typing import Any

from station.errors import ModelError

RUNTIME_ORDER = ("ai_edge_litert", "tflite_runtime")
INSTALL_HELP = (
    "install one: `pip install ai-edge-litert` (numpy 2, Python 3.11-3.13) or "
    "`pip install 'tflite-runtime==2.14.*' 'numpy<2'` (Python <= 3.11)"
)


def _build(runtime: str, model_path: str, threads: int, reference_kernels: bool) -> Any:
    module = importlib.import_module(f"{runtime}.interpreter")
    kwargs: dict[str, Any] = {"model_path": model_path, "num_threads": threads}
    if reference_kernels:
        # Reference kernels give bit-identical output across runtimes (golden tests).
        kwargs["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_REF
    interpreter = module.Interpreter(**kwargs)
    interpreter.allocate_tensors()
    return interpreter


def make_interpreter(model_path: str, threads: int, runtime: str = "auto", reference_kernels: bool = False) -> tuple[Any, str]:
    """An allocated interpreter and the name of the runtime that built it; ModelError says why not."""
    candidates = RUNTIME_ORDER if runtime == "auto" else (runtime,)
    reasons: list[str] = []
    for name in candidates:
        try:
            return _build(name, model_path, threads, reference_kernels), name
        except ModuleNotFoundError as exc:
            if exc.name and not name.startswith(exc.name.split(".")[0]):
                reasons.append(f"{name} cannot import {exc.name}")
            else:
                reasons.append(f"{name} is not installed")
        except ValueError as exc:  # the runtime works but the bytes are not a TFLite model it can run
            raise ModelError(f"model file {model_path} cannot be loaded by {name} ({exc}): install a good copy") from None
        except Exception as exc:  # noqa: BLE001 - e.g. tflite_runtime built for numpy 1 under numpy 2
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            reasons.append(f"{name} failed ({type(exc).__name__}: {first_line})")
    raise ModelError(f"no TFLite runtime works ({'; '.join(reasons)}); {INSTALL_HELP}, or set [pose] runtime")
