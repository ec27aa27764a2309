"""The ``/description`` group of a checkpoint: what the network is.

Populations (model, parameters, labels, SpikeSource schedules), projections (targets,
receptor, connector description; the synapses themselves live in ``/engine``) and inputs
(Poisson inputs, step currents). :func:`write_description` stores them from a
:class:`~snnsim.network.Network`; :func:`read_description` validates them against the
models' and inputs' own checks and returns plain records from which :mod:`snnsim.io`
rebuilds the Python objects once the whole file has been validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim import h5safe
from snnsim.connectors import Connector
from snnsim.errors import FileFormatError, SimulationError, SnnsimError
from snnsim.h5safe import Reader
from snnsim.inputs import Input, PoissonInput, StepCurrent
from snnsim.models import MODELS, NeuronModel
from snnsim.network import Network
from snnsim.populations import Population, Target

__all__ = [
    "INPUT_UNITS",
    "Description",
    "LoadedConnector",
    "ModulationDesc",
    "PopulationDesc",
    "ProjectionDesc",
    "TargetDesc",
    "pop_index",
    "read_description",
    "read_indices",
    "target_of",
    "write_description",
]

Array = npt.NDArray[Any]
#: Units of input weights and currents.
INPUT_UNITS = "nA (mV for LIFDelta, 1 for Leaky, RLeaky and CubaLIF targets)"


# ====================================================================== write
def _describe_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return repr(to_dict())
    arr = np.asarray(value)
    return f"array(shape={arr.shape}, dtype={arr.dtype})"


def _is_whole(target: Target) -> bool:
    return isinstance(target, Population)


def write_description(f: Any, net: Network) -> None:
    """Write ``/description``: populations, projections and inputs of ``net``."""
    desc = f.create_group("description")
    desc.attrs["n_neurons"] = np.int64(net.size)
    g_pops = desc.create_group("populations")
    g_pops.attrs["count"] = np.int64(len(net.populations))
    for p in net.populations:
        g = g_pops.create_group(str(p.index))
        g.attrs["label"] = p.label
        g.attrs["size"] = np.int64(p.size)
        g.attrs["start"] = np.int64(p.start)
        g.attrs["model"] = p.model.name
        params = g.create_group("params")
        units = g.create_group("param_units")
        # the values the neurons use: distributions sampled and set() calls applied; a
        # parameter that differs between neurons is a dataset of one value per neuron
        model = p.resolved_model()
        g.attrs["set_calls"] = np.int64(p.set_calls)
        for key, value in model.params.items():
            unit = model.units.get(key, "")
            if isinstance(value, np.ndarray):
                h5safe.write_dataset(params, key, value.astype(np.float64), unit)
            else:
                params.attrs[key] = np.float64(value)  # type: ignore[arg-type]
            units.attrs[key] = unit
        arrays, attrs = model.file_data()  # what the model needs beyond its parameters
        for name, (values, unit) in arrays.items():
            h5safe.write_dataset(g, name, values, unit)
        for name, value in attrs.items():
            g.attrs[name] = value
    g_proj = desc.create_group("projections")
    g_proj.attrs["count"] = np.int64(len(net.projections))
    for proj in net.projections:
        g = g_proj.create_group(str(proj.index))
        g.attrs["label"] = proj.label
        g.attrs["pre"] = proj.pre.population.label
        g.attrs["post"] = proj.post.population.label
        g.attrs["receptor"] = proj.receptor or ""
        g.attrs["round_delays"] = bool(proj.round_delays)
        if proj.exact_weights:  # absent: False (files written before it existed)
            g.attrs["exact_weights"] = True
        if proj.weight_exp is not None:  # fixed-point weights: the mantissas' exponent
            g.attrs["weight_exp"] = np.int64(proj.weight_exp)
        g.attrs["weight"] = _describe_value(proj.weight)
        g.attrs["delay"] = _describe_value(proj.delay)
        g.attrs["pre_whole"] = _is_whole(proj.pre)
        g.attrs["post_whole"] = _is_whole(proj.post)
        h5safe.write_dataset(g, "pre_indices", proj.pre.indices.astype(np.int64), "1")
        h5safe.write_dataset(g, "post_indices", proj.post.indices.astype(np.int64), "1")
        conn = g.create_group("connector")
        for key, value in proj.connector.describe().items():
            if isinstance(value, (bool, np.bool_)):
                conn.attrs[key] = bool(value)
            elif isinstance(value, (int, np.integer)):
                conn.attrs[key] = np.int64(value)
            elif isinstance(value, (float, np.floating)):
                conn.attrs[key] = np.float64(value)
            else:
                conn.attrs[key] = str(value)
    g_in = desc.create_group("inputs")
    g_in.attrs["count"] = np.int64(len(net.inputs))
    for k, (target, inp) in enumerate(net.inputs):
        g = g_in.create_group(str(k))
        g.attrs["target"] = target.population.label
        g.attrs["whole"] = _is_whole(target)
        h5safe.write_dataset(g, "indices", target.indices.astype(np.int64), "1")
        if isinstance(inp, PoissonInput):
            g.attrs["input"] = "PoissonInput"
            g.attrs["n_inputs"] = np.int64(inp.n_inputs)
            g.attrs["rate"] = np.float64(inp.rate)
            g.attrs["rate_units"] = "Hz"
            g.attrs["weight"] = np.float64(inp.weight)
            g.attrs["weight_units"] = INPUT_UNITS
            g.attrs["receptor"] = inp.receptor or ""
        elif isinstance(inp, StepCurrent):
            g.attrs["input"] = "StepCurrent"
            h5safe.write_dataset(g, "times", inp.times.astype(np.float64), "ms")
            h5safe.write_dataset(g, "amplitudes", inp.amplitudes.astype(np.float64), "nA")
        else:  # pragma: no cover - Network.add_input only accepts the two kinds
            raise SimulationError(f"save: cannot store input {inp!r}")
    _write_modulations(desc, net)


def _write_modulations(desc: Any, net: Network) -> None:
    """``/description/modulations``: one group per ``net.modulate`` call, with its pairs."""
    g_mod = desc.create_group("modulations")
    g_mod.attrs["count"] = np.int64(len(net.modulations))
    for k, m in enumerate(net.modulations):
        g = g_mod.create_group(str(k))
        g.attrs["source"] = m.source.population.label
        g.attrs["source_whole"] = _is_whole(m.source)
        h5safe.write_dataset(g, "source_indices", m.source.indices.astype(np.int64), "1")
        g.attrs["effect"] = m.effect
        g.attrs["weight"] = np.float64(m.weight)
        g.attrs["delay"] = np.float64(m.delay)
        g.attrs["delay_units"] = "ms"
        g.attrs["projection"] = np.int64(m.projection)
        if m.projection < 0:
            g.attrs["target"] = m.target.population.label
            g.attrs["target_whole"] = _is_whole(m.target)
            h5safe.write_dataset(g, "target_indices", m.target.indices.astype(np.int64), "1")
        conn = {} if m.connector is None else m.connector.describe()
        g.attrs["connector"] = str(conn.get("connector", "None"))
        h5safe.write_dataset(g, "pairs_src", m.pairs_src, "1 (astrocyte global id)")
        h5safe.write_dataset(g, "pairs_tgt", m.pairs_tgt, "1 (target global id)")


# ====================================================================== read
class LoadedConnector(Connector):
    """Placeholder connector of a projection restored by :func:`load`.

    The synapses of a loaded network live in its engine; they are never regenerated.
    ``describe()`` returns the description stored in the file.
    """

    def __init__(self, description: Mapping[str, Any]) -> None:
        self.description = dict(description)

    def generate(
        self, key: np.uint64, pre_gid: npt.NDArray[np.int64], post_gid: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Refuse: the synapses of a loaded projection cannot be regenerated."""
        raise SimulationError(
            "a projection restored from a file cannot regenerate its synapses; they are stored "
            "in the loaded network's engine"
        )

    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        """Not known per projection (the synapses are merged in the engine): 0."""
        return 0.0

    def describe(self) -> dict[str, Any]:
        """Return the connector description stored in the file."""
        return dict(self.description)


def _check_indices(r: Reader, where: str, idx: Array, size: int) -> None:
    if idx.size == 0:
        raise r.fail(where, "selects no neuron")
    if idx.min() < 0 or idx.max() >= size:
        raise r.fail(where, f"index out of range for a population of {size} neurons")
    if np.unique(idx).size != idx.size:
        raise r.fail(where, "indices must be unique")


def read_indices(r: Reader, g: Any, name: str, size: int) -> Array:
    """Read and check a dataset of unique neuron indices of a population of ``size``."""
    idx = r.read(r.dataset(g, name, np.int64, (h5safe.AtMost(size),)))
    _check_indices(r, f"{g.name}/{name}", idx, size)
    return idx


@dataclass
class PopulationDesc:
    """One population as the file describes it (model already validated)."""

    label: str
    size: int
    start: int
    model: NeuronModel
    #: Population.set calls folded into the model's values (later ones continue the count)
    set_calls: int = 0


@dataclass
class TargetDesc:
    """A population (index into the populations) or a subset of it."""

    pop: int
    indices: Array
    whole: bool


@dataclass
class ProjectionDesc:
    """One projection as the file describes it (its synapses live in ``/engine``)."""

    label: str
    pre: TargetDesc
    post: TargetDesc
    receptor: str | None
    round_delays: bool
    connector: dict[str, Any]
    #: exponent of fixed-point weights (onto LoihiLIF), else None
    weight_exp: int | None = None
    #: weights stored in float64 (``connect(exact_weights=True)``)
    exact_weights: bool = False


def pop_index(r: Reader, pops: list[PopulationDesc], label: str, where: str) -> int:
    """Return the index of the population labelled ``label``."""
    for i, p in enumerate(pops):
        if p.label == label:
            return i
    raise r.fail(where, f"no population labelled {label!r}")


def _read_target(
    r: Reader, g: Any, label_attr: str, idx_name: str, whole_attr: str, pops: list[PopulationDesc]
) -> TargetDesc:
    p = pop_index(r, pops, r.attr_str(g, label_attr), f"{g.name} attribute {label_attr!r}")
    idx = read_indices(r, g, idx_name, pops[p].size)
    whole = r.attr_bool(g, whole_attr)
    if whole and not np.array_equal(idx, np.arange(pops[p].size)):
        raise r.fail(f"{g.name}/{idx_name}", "whole-population target with partial indices")
    return TargetDesc(p, idx, whole)


def _read_populations(r: Reader, dt: float) -> list[PopulationDesc]:
    pops: list[PopulationDesc] = []
    start = 0
    labels: set[str] = set()
    for g in r.numbered(r.group("/description/populations")):
        label = r.attr_str(g, "label")
        if label in labels:
            raise r.fail(f"{g.name} attribute 'label'", f"label {label!r} used twice")
        labels.add(label)
        size = r.attr_int(g, "size", 1, 1 << 30)
        if r.attr_int(g, "start") != start:
            raise r.fail(f"{g.name} attribute 'start'", f"expected {start} (sum of earlier sizes)")
        name = r.attr_str(g, "model")
        cls = MODELS.get(name)
        if cls is None:
            raise r.fail(f"{g.name} attribute 'model'", f"unknown model {name!r}")
        pg = r.group(f"{g.name}/params")
        keys = set(r.attr_names(pg))
        per_neuron = set(r.children(pg))
        if keys & per_neuron or keys | per_neuron != set(cls.defaults):
            raise r.fail(
                f"{pg.name}",
                f"parameters {sorted(keys | per_neuron)} do not match {name}'s "
                f"{sorted(cls.defaults)} (each once: an attribute, or a dataset of one value "
                "per neuron)",
            )
        params: dict[str, Any] = {
            k: r.read(r.dataset(pg, k, np.float64, (size,))) if k in per_neuron
            else r.attr_float(pg, k)
            for k in cls.defaults
        }  # fmt: skip
        arrays = {k: r.read(r.dataset(g, k, t, (None,))) for k, t in cls.file_arrays.items()}
        attrs = {k: r.attr(g, k) for k in cls.file_attrs}
        set_calls = r.attr_int(g, "set_calls", 0, 1 << 30)
        try:
            model: NeuronModel = cls.from_file(size, params, arrays, attrs)
            model.check_size(size)
            model.check_dt(dt)
            model.static_data(dt, 0)  # schedules on the grid
        except SnnsimError as err:
            if isinstance(err, FileFormatError):
                raise
            raise r.fail(f"{g.name}", f"invalid model: {err}") from None
        pops.append(PopulationDesc(label, size, start, model, set_calls))
        start += size
    if not pops:
        raise r.fail("/description/populations", "no population")
    if start >= 1 << 30:
        raise r.fail("/description/populations", f"{start} neurons exceed the supported maximum")
    return pops


def _read_receptor(r: Reader, g: Any, model: NeuronModel) -> str | None:
    """Receptor attribute: empty (the default) or one the model has, as connect enforces."""
    receptor = r.attr_str(g, "receptor") or None
    if receptor is None:
        return None
    where = f"{g.name} attribute 'receptor'"
    if not model.signed_receptors:
        raise r.fail(where, f"{receptor!r}, but {model.name} has a single receptor: must be ''")
    if receptor not in model.receptors:
        raise r.fail(where, f"{receptor!r} not in {model.name}'s receptors {model.receptors}")
    return receptor


def _read_projections(r: Reader, pops: list[PopulationDesc]) -> list[ProjectionDesc]:
    out = []
    for g in r.numbered(r.group("/description/projections")):
        pre = _read_target(r, g, "pre", "pre_indices", "pre_whole", pops)
        post = _read_target(r, g, "post", "post_indices", "post_whole", pops)
        model = pops[post.pop].model
        receptor = _read_receptor(r, g, model)
        conn_g = r.group(f"{g.name}/connector")
        conn: dict[str, Any] = dict(r.attr_scalars(conn_g))
        weight_exp = None
        if model.weight_exp_range is not None:
            lo, hi = model.weight_exp_range
            weight_exp = r.attr_int(g, "weight_exp", lo, hi)
        elif r.has_attr(g, "weight_exp"):
            raise r.fail(f"{g.name} attribute 'weight_exp'", f"{model.name} takes no exponent")
        out.append(
            ProjectionDesc(
                r.attr_str(g, "label"),
                pre,
                post,
                receptor,
                r.attr_bool(g, "round_delays"),
                conn,
                weight_exp,
                r.has_attr(g, "exact_weights") and r.attr_bool(g, "exact_weights"),
            )
        )
    return out


def _read_inputs(r: Reader, pops: list[PopulationDesc]) -> list[tuple[TargetDesc, Input]]:
    out: list[tuple[TargetDesc, Input]] = []
    for g in r.numbered(r.group("/description/inputs")):
        target = _read_target(r, g, "target", "indices", "whole", pops)
        kind = r.attr_str(g, "input")
        model = pops[target.pop].model
        if not model.receptors:
            raise r.fail(g.name, f"{model.name} neurons take no input")
        try:
            inp: Input
            if kind == "PoissonInput":
                receptor = _read_receptor(r, g, model)
                inp = PoissonInput(
                    r.attr_int(g, "n_inputs", 0, (1 << 62)),
                    r.attr_float(g, "rate"),
                    r.attr_float(g, "weight"),
                    receptor,
                )
            elif kind == "StepCurrent":
                t_ds = r.dataset(g, "times", np.float64, (None,))
                a_ds = r.dataset(g, "amplitudes", np.float64, (t_ds.shape[0],))
                inp = StepCurrent(r.read(t_ds), r.read(a_ds))
            else:
                raise r.fail(f"{g.name} attribute 'input'", f"unknown input {kind!r}")
        except SnnsimError as err:
            if isinstance(err, FileFormatError):
                raise
            raise r.fail(g.name, f"invalid input: {err}") from None
        out.append((target, inp))
    return out


@dataclass
class ModulationDesc:
    """One stored ``net.modulate`` call (see :mod:`snnsim.modulation`)."""

    source: TargetDesc
    #: the target neurons, or None for a projection's synapses
    target: TargetDesc | None
    projection: int
    effect: str
    weight: float
    delay: float
    connector: str
    pairs_src: Array
    pairs_tgt: Array


def _read_modulations(r: Reader, pops: list[PopulationDesc], n_proj: int) -> list[ModulationDesc]:
    from snnsim.modulation import EFFECTS

    if r.get("/description/modulations") is None:  # a file from before net.modulate
        return []
    n = sum(p.size for p in pops)
    out = []
    for g in r.numbered(r.group("/description/modulations")):
        src = _read_target(r, g, "source", "source_indices", "source_whole", pops)
        effect = r.attr_str(g, "effect")
        if effect not in EFFECTS:
            raise r.fail(f"{g.name} attribute 'effect'", f"{effect!r} not in {EFFECTS}")
        proj = r.attr_int(g, "projection", -1, n_proj - 1)
        tgt = None
        if proj < 0:
            tgt = _read_target(r, g, "target", "target_indices", "target_whole", pops)
        pairs = []
        for name in ("pairs_src", "pairs_tgt"):
            ds = r.dataset(g, name, np.int64, (None,))
            arr = r.read(ds)
            if np.any(arr < 0) or np.any(arr >= n):
                raise r.fail(f"{g.name}/{name}", f"global ids must be in [0, {n})")
            pairs.append(arr)
        if pairs[0].size != pairs[1].size:
            raise r.fail(f"{g.name}/pairs_tgt", "needs one target per pairs_src entry")
        out.append(
            ModulationDesc(
                src,
                tgt,
                proj,
                effect,
                r.attr_float(g, "weight"),
                r.attr_float(g, "delay"),
                r.attr_str(g, "connector"),
                pairs[0],
                pairs[1],
            )
        )
    return out


@dataclass
class Description:
    """Everything ``/description`` holds, validated."""

    populations: list[PopulationDesc]
    projections: list[ProjectionDesc]
    inputs: list[tuple[TargetDesc, Input]]
    modulations: list[ModulationDesc]


def read_description(r: Reader, dt: float) -> Description:
    """Read and validate ``/description`` (models, targets, inputs) for time step ``dt``."""
    pops = _read_populations(r, dt)
    projs = _read_projections(r, pops)
    return Description(pops, projs, _read_inputs(r, pops), _read_modulations(r, pops, len(projs)))


def target_of(pop: Population, t: TargetDesc) -> Target:
    """Return the population or view a target record stands for."""
    return pop if t.whole else pop[t.indices]
