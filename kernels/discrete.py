r"""Discrete-time LIF neurons of snnTorch 1.0 (``Leaky``, ``Synaptic``, ``RLeaky``): kernels.

Model classes: :class:`snnsim.models.Leaky`, :class:`snnsim.models.RLeaky` and
:class:`snnsim.models.CubaLIF`. Everything is dimensionless and one step is one ``dt``.
With :math:`x_t` the input arriving in the ring slot of step ``t`` (snnTorch's
``input_[t]``, plus a step current if there is one) and the reset signal
:math:`R_t = \Theta(U_{t-1} - \vartheta)` taken from the membrane stored at the end of the
previous step (:math:`\Theta(z) = 1` for :math:`z > 0`), one step is

.. math::
    \text{Leaky:}\quad U_t = \beta U_{t-1} + x_t - R_t\vartheta \;(\text{subtract}),\quad
        \beta (1 - R_t) U_{t-1} + x_t \;(\text{zero}),\quad \beta U_{t-1} + x_t \;(\text{none})

    \text{RLeaky (zero):}\quad U_t = (1 - R_t)(\beta U_{t-1} + x_t)

    \text{CubaLIF:}\quad I_t = \alpha I_{t-1} + x_t,\quad
        U_t = \beta U_{t-1} + I_t - R_t\vartheta \;(\text{subtract}),\quad
        (1 - R_t)(\beta U_{t-1} + I_t) \;(\text{zero: only } U)

then the spike :math:`S_t = \Theta(U_t - \vartheta)`. With ``reset_delay=False`` the same
step also applies snnTorch's guarded reset :math:`D_t = S_t - R_t \in \{-1, 0, 1\}`:
:math:`U_t \leftarrow U_t - D_t\vartheta` (subtract) or :math:`U_t \leftarrow U_t - D_t U_t`
(zero); "none" never resets. Every expression is evaluated in the order snnTorch's
``forward`` evaluates it, in the state's precision, so float64 (and float32) results are the
ones torch computes elementwise.

Coefficients (``coefficient_names``): Leaky/RLeaky ``beta, threshold, reset_code,
reset_delay``; CubaLIF ``alpha, beta, threshold, reset_code, reset_delay``, where
``reset_code`` is one of the ``RESET_*`` constants below and ``reset_delay`` is 1 or 0. Float
state: ``mem`` (Leaky), ``mem, syn`` (CubaLIF); no integer state; input on receptor plane 0.

Each kernel makes two passes over its neurons: a branch-free update (SIMD for homogeneous
populations) that leaves each neuron's spike flag in its ring entry of this step (already
read, and cleared by the second pass), then a vectorised count per group of 32 and, only
where there is a spike, the scan that appends the ids in ascending order.
"""

from __future__ import annotations

from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE
from snnsim.kernels.lif import SPIKE_GROUP

#: Reset by subtraction of the threshold (snnTorch ``reset_mechanism="subtract"``).
RESET_SUBTRACT = 0
#: Leaky's zero reset: the *previous* membrane is zeroed before the decay and the input.
RESET_ZERO = 1
#: No reset (snnTorch ``reset_mechanism="none"``).
RESET_NONE = 2
#: Zero reset of the *new* membrane (snnTorch ``RLeaky``, ``Synaptic``, ``RSynaptic``).
RESET_ZERO_NEW = 3


@njit(**JIT_INLINE)
def membrane_step(u, drive, beta, thr, code, delay, zero, one):
    r"""One membrane update from the previous ``u`` and this step's ``drive``; ``(U, S)``.

    ``drive`` is :math:`x_t` (Leaky) or the new :math:`I_t` (CubaLIF); ``code`` a
    ``RESET_*`` constant; ``delay`` whether the reset waits for the next step; ``zero``,
    ``one`` the numbers 0 and 1 in the state's precision (``S`` is one of them). The
    operations are those of snnTorch's ``forward``: ``base - R*thr`` (subtract),
    ``beta*((1-R)*u) + x`` (zero), ``base - R*base`` (zero of the new membrane) and,
    without the delay, ``U - (S-R)*thr`` or ``U - (S-R)*U``.
    """
    r = one if u > thr else zero
    if code == RESET_ZERO:
        m = beta * ((one - r) * u) + drive
    else:
        m = beta * u + drive
        if code == RESET_SUBTRACT:
            m = m - r * thr
        elif code == RESET_ZERO_NEW:
            m = m - r * m
    s = one if m > thr else zero
    if not delay:
        d = s - r  # snnTorch's guard against a second reset; -1 adds a reset back
        if code == RESET_SUBTRACT:
            m = m - d * thr
        elif code != RESET_NONE:
            m = m - d * m
    return m, s


@njit(**JIT_INLINE)
def _emit(flags, g0, n, spikes, n_out):
    """Append ``g0 + i`` for every nonzero ``flags[i]`` (ascending) and clear the flags."""
    for b0 in range(0, n, SPIKE_GROUP):
        fb = flags[b0 : min(b0 + SPIKE_GROUP, n)]
        n_sp = 0
        for i in range(fb.shape[0]):
            n_sp += fb[i] != 0
        if n_sp > 0:
            for i in range(fb.shape[0]):
                if fb[i] != 0:
                    spikes[n_out] = g0 + b0 + i
                    n_out += 1
                    fb[i] = 0
    return n_out


@njit(**JIT_BORROW)
def discrete_dense(u_, syn_, i_ext_, ring_row, lo, hi, gid0, C, cn, cs, use_iext, spikes, n_out):
    r"""Advance Leaky / RLeaky (``syn_`` is ``None``) or CubaLIF neurons ``lo <= i < hi`` one step.

    Parameters
    ----------
    u_ : float[n]
        Membrane ``mem`` (dimensionless) of the population; updated in place.
    syn_ : float[n] or None
        CubaLIF's synaptic current ``syn``, :math:`I_t = \alpha I_{t-1} + x_t` (never
        reset), updated in place and used as the membrane's drive; ``None`` for Leaky,
        whose drive is :math:`x_t` (Numba then compiles the loop without it).
    i_ext_ : float[N_total]
        Step current per global neuron id, added to the input; read only if ``use_iext``.
    ring_row : float[2 * N_total]
        Input arriving in this step at ``g`` (receptor plane 0); read and cleared.
    lo, hi, gid0 : int
        Local index range, global id of the population's first neuron.
    C : float64[:]
        Coefficients ``[alpha,] beta, threshold, reset_code, reset_delay`` (``alpha`` for
        CubaLIF only): coefficient ``k`` of neuron ``i`` at ``C[k * cn + i * cs]``
        (``cn=1, cs=0``: one row for all neurons; ``cn=n, cs=1``: per-neuron
        coefficients). ``reset_code`` and ``reset_delay`` are the same for every neuron.
    use_iext : bool
        Whether to add ``i_ext_``.
    spikes, n_out :
        Output ids from ``n_out`` on; returns the new ``n_out``.
    """
    f = u_.dtype.type
    zero = f(0)
    one = f(1)
    cb = 0 if syn_ is None else 1  # coefficient row of beta
    code = int(C[(cb + 2) * cn + lo * cs])
    delay = C[(cb + 3) * cn + lo * cs] != 0.0
    n = hi - lo
    g0 = gid0 + lo
    u = u_[lo:hi]
    x_ = ring_row[g0 : g0 + n]
    iext = i_ext_[g0 : g0 + n]
    if cs == 0:
        # one coefficient row, loaded once: the loop is branch-free and vectorises
        alpha = f(C[0])
        beta = f(C[cb])
        thr = f(C[cb + 1])
        for i in range(n):
            x = x_[i] + iext[i] if use_iext else x_[i]
            if syn_ is not None:
                x = alpha * syn_[lo + i] + x
                syn_[lo + i] = x
            m, s = membrane_step(u[i], x, beta, thr, code, delay, zero, one)
            u[i] = m
            x_[i] = s
    else:
        for i in range(n):
            k = lo + i
            x = x_[i] + iext[i] if use_iext else x_[i]
            if syn_ is not None:
                x = f(C[k]) * syn_[k] + x
                syn_[k] = x
            m, s = membrane_step(
                u[i], x, f(C[cb * cn + k]), f(C[(cb + 1) * cn + k]), code, delay, zero, one
            )
            u[i] = m
            x_[i] = s
    return _emit(x_, g0, n, spikes, n_out)


@njit(**JIT_INLINE)
def leaky_dense(u_, i_ext_, ring_row, lo, hi, gid0, C, cn, cs, use_iext, spikes, n_out):
    """:func:`discrete_dense` for Leaky / RLeaky (coefficients ``beta, threshold, ...``)."""
    return discrete_dense(u_, None, i_ext_, ring_row, lo, hi, gid0, C, cn, cs, use_iext, spikes,
                          n_out)  # fmt: skip


@njit(**JIT_INLINE)
def cuba_lif_dense(u_, i_, i_ext_, ring_row, lo, hi, gid0, C, cn, cs, use_iext, spikes, n_out):
    """:func:`discrete_dense` for CubaLIF (``i_``: ``syn``; coefficients ``alpha, beta, ...``)."""
    return discrete_dense(u_, i_, i_ext_, ring_row, lo, hi, gid0, C, cn, cs, use_iext, spikes,
                          n_out)  # fmt: skip


@njit(**JIT_INLINE)
def leaky_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of a Leaky / RLeaky population."""
    u = state.fstate[foff : foff + n]
    return leaky_dense(
        u, state.i_ext, ring_row, lo, hi, gid0, coeffs, 1, 0, state.use_iext, spikes, n_out
    )


@njit(**JIT_INLINE)
def leaky_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`leaky_update` where ``het`` may hold per-neuron coefficients ``[4 * n]``."""
    u = state.fstate[foff : foff + n]
    if het.shape[0] == 0:
        return leaky_dense(
            u, state.i_ext, ring_row, lo, hi, gid0, coeffs, 1, 0, state.use_iext, spikes, n_out
        )
    return leaky_dense(
        u, state.i_ext, ring_row, lo, hi, gid0, het, n, 1, state.use_iext, spikes, n_out
    )


@njit(**JIT_INLINE)
def cuba_lif_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of neurons ``lo <= i < hi`` of a CubaLIF population."""
    fstate = state.fstate
    return cuba_lif_dense(
        fstate[foff : foff + n], fstate[foff + n : foff + 2 * n], state.i_ext, ring_row, lo, hi,
        gid0, coeffs, 1, 0, state.use_iext, spikes, n_out,
    )  # fmt: skip


@njit(**JIT_INLINE)
def cuba_lif_update_het(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """:func:`cuba_lif_update` where ``het`` may hold per-neuron coefficients ``[5 * n]``."""
    fstate = state.fstate
    if het.shape[0] == 0:
        return cuba_lif_dense(
            fstate[foff : foff + n], fstate[foff + n : foff + 2 * n], state.i_ext, ring_row, lo,
            hi, gid0, coeffs, 1, 0, state.use_iext, spikes, n_out,
        )  # fmt: skip
    return cuba_lif_dense(
        fstate[foff : foff + n], fstate[foff + n : foff + 2 * n], state.i_ext, ring_row, lo, hi,
        gid0, het, n, 1, state.use_iext, spikes, n_out,
    )  # fmt: skip
