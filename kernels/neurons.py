"""Neuron update kernels: one kernel per dynamical form, plus the dispatch the engine uses.

Every kernel advances neurons ``lo <= i < hi`` of one population by one time step of
length ``dt``, in the order fixed by the design (NEST order):

1. membrane update from the state at the start of the step (skipped while refractory);
2. synaptic currents decay, then the input arriving in this step is added;
3. threshold test on the new membrane; on a spike: reset, start the refractory period,
   append the global neuron id to ``spikes``.

Input arrives in ``ring_row``, the ring-buffer slot of this step, laid out as
``ring_row[2*g + receptor]`` for global neuron id ``g`` (receptor 0 = exc, 1 = inh). Kernels
read and clear their neurons' entries. Coefficients (propagators) are computed once per
population by the model classes in :mod:`snnsim.models`; their layout is given per kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from snnsim.kernels.jit_options import JIT
from snnsim.kernels.random_streams import uniform

#: Model kinds the engine dispatches on (stored per population in ``pop_kind``).
KIND_LIF = 1
KIND_LIF_DELTA = 2
KIND_POISSON_SOURCE = 3
KIND_SPIKE_SOURCE = 4

#: Number of coefficients stored per population.
N_COEFFS = 16


@njit(**JIT)
def lif_psc_exp_step(v, i_exc, i_inh, refrac, i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out):
    r"""Advance LIF neurons with exponential current synapses (NEST ``iaf_psc_exp``).

    .. math::
        V_{t+1} = E_L + (V_t - E_L) P_{22} + I^{e}_t P_{21}^{e} + I^{i}_t P_{21}^{i}
                  + (I_{offset} + I_{ext}) P_{20},\qquad
        I^{x}_{t+1} = I^{x}_t P_{11}^{x} + \sum w

    Parameters
    ----------
    v, i_exc, i_inh : float64[n]
        Membrane (mV) and synaptic currents (nA) of the population; updated in place.
    refrac : int64[n]
        Refractory steps left; updated in place.
    i_ext : float64[N_total]
        External (step) current per global neuron id (nA); read only.
    ring_row : float64[2 * N_total]
        Input arriving in this step; the neurons' entries are read and set to 0.
    lo, hi : int
        Local index range to update.
    gid0 : int
        Global id of the population's first neuron.
    coeffs : float64[N_COEFFS]
        ``P22, P11e, P11i, P21e, P21i, P20, v_rest, v_thresh, v_reset, i_offset,
        refractory_steps``.
    spikes : int64[:]
        Output: global ids of neurons that spiked are written from ``n_out`` on.
    n_out : int
        Number of entries of ``spikes`` already used.

    Returns
    -------
    int
        The new ``n_out``.
    """
    p22 = coeffs[0]
    p11e = coeffs[1]
    p11i = coeffs[2]
    p21e = coeffs[3]
    p21i = coeffs[4]
    p20 = coeffs[5]
    v_rest = coeffs[6]
    v_thresh = coeffs[7]
    v_reset = coeffs[8]
    i_offset = coeffs[9]
    n_ref = np.int64(coeffs[10])
    for i in range(lo, hi):
        g = gid0 + i
        x_e = ring_row[2 * g]
        x_i = ring_row[2 * g + 1]
        ring_row[2 * g] = 0.0
        ring_row[2 * g + 1] = 0.0
        vi = v[i]
        r = refrac[i]
        ie = i_exc[i]
        ii = i_inh[i]
        if r == 0:
            vi = v_rest + (vi - v_rest) * p22 + ie * p21e + ii * p21i + (i_offset + i_ext[g]) * p20
        else:
            r -= 1
        i_exc[i] = ie * p11e + x_e
        i_inh[i] = ii * p11i + x_i
        if vi >= v_thresh:
            vi = v_reset
            r = n_ref
            spikes[n_out] = g
            n_out += 1
        v[i] = vi
        refrac[i] = r
    return n_out


@njit(**JIT)
def lif_delta_step(v, refrac, i_ext, ring_row, lo, hi, gid0, coeffs, spikes, n_out):
    r"""Advance LIF neurons with delta synapses (NEST ``iaf_psc_delta``, PyNN ``IF_curr_delta``).

    .. math::
        V_{t+1} = E_L + (V_t - E_L) P_{33} + (I_{offset} + I_{ext}) P_{30} + \sum w

    Input arriving while refractory is discarded (NEST default). ``coeffs`` holds
    ``P33, P30, v_rest, v_thresh, v_reset, i_offset, refractory_steps``; the other
    arguments are as in :func:`lif_psc_exp_step` (input on receptor 0 only).
    """
    p33 = coeffs[0]
    p30 = coeffs[1]
    v_rest = coeffs[2]
    v_thresh = coeffs[3]
    v_reset = coeffs[4]
    i_offset = coeffs[5]
    n_ref = np.int64(coeffs[6])
    for i in range(lo, hi):
        g = gid0 + i
        x = ring_row[2 * g]
        ring_row[2 * g] = 0.0
        vi = v[i]
        r = refrac[i]
        if r == 0:
            vi = v_rest + (vi - v_rest) * p33 + (i_offset + i_ext[g]) * p30 + x
        else:
            r -= 1
        if vi >= v_thresh:
            vi = v_reset
            r = n_ref
            spikes[n_out] = g
            n_out += 1
        v[i] = vi
        refrac[i] = r
    return n_out


@njit(**JIT)
def poisson_source_step(lo, hi, gid0, p_spike, key, step, spikes, n_out):
    """Emit a spike with probability ``p_spike = 1 - exp(-rate dt)`` per neuron and step.

    The draw for neuron ``g`` in step ``step`` is ``uniform(key, g, step, 0)``, so it does not
    depend on threads or chunking.
    """
    for i in range(lo, hi):
        g = gid0 + i
        if uniform(key, g, step, 0) < p_spike:
            spikes[n_out] = g
            n_out += 1
    return n_out


@njit(**JIT)
def spike_source_step(pointer, indptr, steps, lo, hi, gid0, step, spikes, n_out):
    """Emit the spikes a :class:`SpikeSource` has scheduled for this step.

    Parameters
    ----------
    pointer : int64[n]
        Per neuron, index of its next scheduled spike in ``steps``; advanced in place.
    indptr : int64[n + 1]
        CSR row pointers of each neuron's spike steps.
    steps : int64[:]
        Spike time stamps in steps, strictly increasing within each row.
    """
    for i in range(lo, hi):
        p = pointer[i]
        if p < indptr[i + 1] and steps[p] == step:
            spikes[n_out] = gid0 + i
            n_out += 1
            pointer[i] = p + 1
    return n_out


@njit(**JIT)
def update_population(
    kind,
    lo,
    hi,
    n,
    gid0,
    fstate,
    foff,
    istate,
    ioff,
    idata,
    doff,
    coeffs,
    key,
    i_ext,
    ring_row,
    step,
    spikes,
    n_out,
):
    """Dispatch one population's update to the kernel of its model kind.

    State lives in flat arrays: float variable ``k`` of the population is
    ``fstate[foff + k*n : foff + (k+1)*n]`` and integer variable ``k`` is
    ``istate[ioff + k*n : ...]``; ``idata[doff:]`` holds static integer data (spike
    schedules). Adding a model means adding one kernel and one branch here.
    """
    if kind == KIND_LIF:
        return lif_psc_exp_step(
            fstate[foff : foff + n],
            fstate[foff + n : foff + 2 * n],
            fstate[foff + 2 * n : foff + 3 * n],
            istate[ioff : ioff + n],
            i_ext,
            ring_row,
            lo,
            hi,
            gid0,
            coeffs,
            spikes,
            n_out,
        )
    if kind == KIND_LIF_DELTA:
        return lif_delta_step(
            fstate[foff : foff + n],
            istate[ioff : ioff + n],
            i_ext,
            ring_row,
            lo,
            hi,
            gid0,
            coeffs,
            spikes,
            n_out,
        )
    if kind == KIND_POISSON_SOURCE:
        return poisson_source_step(lo, hi, gid0, coeffs[0], key, step, spikes, n_out)
    if kind == KIND_SPIKE_SOURCE:
        n_steps = idata[doff + n]
        return spike_source_step(
            istate[ioff : ioff + n],
            idata[doff : doff + n + 1],
            idata[doff + n + 1 : doff + n + 1 + n_steps],
            lo,
            hi,
            gid0,
            step,
            spikes,
            n_out,
        )
    return n_out
