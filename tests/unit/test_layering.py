"""Imports run one way (design.md section 3): a module imports only from lower layers.

cli -> public API -> network (description root) -> description objects -> build -> engine
-> kernels; io, monitors and plot depend on the description and the engine, never the
reverse. Every ``import`` in the package counts, also those inside functions; only
imports under ``if TYPE_CHECKING:`` (annotations) are exempt. A module that is not listed
fails the test: place it in a layer when you add it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

#: Layer of every module; a module may import modules of its own layer or below.
LAYERS: dict[str, int] = {
    # pure @njit kernels and the structures they take
    "snnsim.kernels": 0,
    # helpers every layer may use
    "snnsim.errors": 1,
    "snnsim.timegrid": 1,
    "snnsim.streams": 1,
    "snnsim.compilation": 1,
    "snnsim.paths": 1,
    "snnsim.run_control": 1,
    # engine: compiled arrays, run loop, synapse blocks (no description object)
    "snnsim.engine": 2,
    "snnsim.synapse_blocks": 2,
    "snnsim.plastic_blocks": 2,
    "snnsim.modulation_state": 2,
    "snnsim.recording_plan": 2,
    # description values: models, connectors, distributions, inputs
    "snnsim.distributions": 3,
    "snnsim.connectors": 3,
    "snnsim.plasticity": 3,
    "snnsim.delay_plasticity": 3,
    "snnsim.inputs": 3,
    "snnsim.models": 3,
    "snnsim.parameters": 3,
    # build: description -> tables -> engine storage
    "snnsim.synapse_values": 4,
    "snnsim.synapses": 4,
    "snnsim.build": 4,
    "snnsim.modulation": 4,
    # description objects that belong to a network
    "snnsim.projections": 5,
    "snnsim.populations": 5,
    # recorders (filled by the engine through their public interface)
    "snnsim.monitors": 5,
    # the network: the root of the description and the entry point of a run
    "snnsim.network": 6,
    # HDF5 safety helpers and SONATA spike files: no description object
    "snnsim.h5safe": 2,
    "snnsim.sonata": 2,
    # files and plots read the description, the engine and the recorders
    "snnsim.state_checks": 7,
    "snnsim.synapse_checks": 7,
    "snnsim.engine_state": 7,
    "snnsim.checkpoint": 7,
    "snnsim.recordings_io": 7,
    "snnsim.description_io": 7,
    "snnsim.io": 7,
    # hardware exporters and mappings (hardware/ folder) read the description and recorders
    "snnsim.hardware": 8,
    # the public API and what is built on it
    "snnsim": 8,
    "snnsim.demo": 8,
    "snnsim.bench": 8,
    "snnsim.torch": 8,
    # plots read recordings, and the SpiNNaker mapping of the hardware layer
    "snnsim.plot": 8,
    "snnsim.cli": 9,
}

#: Lower layers that still reach up, each with the reason; keep this empty.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "kernels":
        return "snnsim.kernels"
    if rel.parts[0] == "hardware":
        name = ".".join(("snnsim", *rel.with_suffix("").parts))
        return name[: -len(".__init__")] if name.endswith(".__init__") else name
    name = ".".join(rel.with_suffix("").parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _layer(module: str) -> int | None:
    while module:
        if module in LAYERS:
            return LAYERS[module]
        module = module.rpartition(".")[0]
    return None


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every snnsim import outside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("snnsim")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("snnsim"):
            if node.module == "snnsim":  # "from snnsim import x": x may be a module
                found += [(node.lineno, f"snnsim.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _package_files() -> list[Path]:
    files = sorted((ROOT / "snnsim").rglob("*.py")) + sorted((ROOT / "kernels").rglob("*.py"))
    files += sorted((ROOT / "hardware").rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


@pytest.mark.parametrize("path", _package_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path: Path) -> None:
    module = _module_name(path)
    own = _layer(module)
    assert own is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    tree = ast.parse(path.read_text())
    wrong = []
    for line, target in _imports(tree):
        layer = _layer(target)
        if layer is None:
            if _layer(target.rpartition(".")[0]) is not None:
                continue  # "from snnsim import name": a name, not a module
            wrong.append(f"line {line}: {target} is in no layer")
        elif layer > own and (module, target) not in EXCEPTIONS:
            wrong.append(f"line {line}: {module} (layer {own}) imports {target} (layer {layer})")
    assert not wrong, "\n".join(wrong)


def test_kernels_import_nothing_of_snnsim_but_kernels() -> None:
    for path in sorted((ROOT / "kernels").rglob("*.py")):
        for line, target in _imports(ast.parse(path.read_text())):
            assert target.startswith("snnsim.kernels"), f"{path.name}:{line} imports {target}"


def test_no_module_calls_another_modules_private_names() -> None:
    """``from snnsim.x import _name`` and ``module._name(...)`` across modules are refused."""
    wrong = []
    for path in _package_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snnsim"):
                wrong += [
                    f"{path.name}:{node.lineno} imports {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not wrong, "\n".join(wrong)


def _private_names_defined(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, assigned attributes and names."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if n.startswith("_")}


def test_no_module_reads_another_modules_private_attributes() -> None:
    """``obj._name`` is allowed only for private names the module itself defines.

    NamedTuple's own ``_replace`` / ``_fields`` are public API despite the underscore;
    private names of other projects (Numba's thread pool) are their business.
    """
    allowed = {"_replace", "_fields", "_asdict", "_make"}
    wrong = []
    for path in _package_files():
        tree = ast.parse(path.read_text())
        own = _private_names_defined(tree)
        foreign = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                foreign |= {
                    (a.asname or a.name).split(".")[0]
                    for a in node.names
                    if not a.name.startswith("snnsim")
                }
            elif isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("snnsim"):
                foreign |= {a.asname or a.name for a in node.names}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            if node.attr.startswith("__") or node.attr in allowed or node.attr in own:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", *foreign):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
    assert not wrong, "\n".join(wrong)
