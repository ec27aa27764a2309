r"""Astrocytes: NALSM's integrator and NEST's Li-Rinzel astrocyte (``astrocyte_lr_1994``).

Model classes: :class:`snnsim.models.Astrocyte` and :class:`snnsim.models.AstrocyteLR`.
Astrocytes never spike: the kernels read and clear their input (receptor plane 0,
``ring_row[g]``) and update their state; they append nothing to ``spikes``.

**Astrocyte** (NALSM, ``NALSM_ASTRO.update_astro_state``). Coefficients ``tau`` (ms),
``bias`` (1), ``h`` (``dt`` in ms); float state ``A``. With :math:`x_t` the sum of the
weights of the spikes arriving in step ``t``:

.. math::
    A_t = A_{t-1} + \frac{(x_t + b\,h) - A_{t-1} h}{\tau}

At ``h = 1`` ms this is NALSM's expression ``A + ((sum(w*S) + bias) - A) / tau`` operation for
operation (``b*1`` and ``A*1`` are exact), so the result is the same number. At other ``dt``
it is the forward-Euler step of :math:`\tau\,dA/dt = -A + b + \sum_i w_i S_i(t)` with each
spike a delta of area 1 ms: a spike of weight ``w`` raises ``A`` by ``w / tau`` (ms/ms)
whatever ``dt`` is, as in NALSM, and the leak and bias act for ``h`` ms.

**AstrocyteLR** (NEST 3.10 ``astrocyte_lr_1994``). Float state ``IP3``, ``Ca_astro``,
``h_IP3R`` (and the output ``SIC``); coefficients in :data:`LR_COEFFS` order. Per step of
length ``h``: one classic fourth-order Runge-Kutta step of the ODEs (see
:func:`lr_rhs`), then ``Ca`` is clipped to ``[0, Ca_tot]``, then ``IP3 += delta_IP3 * J``
with ``J`` the input of this step, then ``SIC`` from the new ``Ca`` -- NEST's order.
"""

from __future__ import annotations

import math

from numba import njit
from snnsim.kernels.jit_options import JIT_BORROW, JIT_INLINE

#: Coefficient names of AstrocyteLR, in kernel order (NEST's parameter names, plus ``h``).
LR_COEFFS: tuple[str, ...] = (
    "Ca_tot", "IP3_0", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Kd_inh", "Km_SERCA", "SIC_scale",
    "SIC_th", "delta_IP3", "k_IP3R", "rate_IP3R", "rate_L", "rate_SERCA", "ratio_ER_cyt",
    "tau_IP3", "h",
)  # fmt: skip


@njit(**JIT_BORROW)
def astrocyte_dense(a_, ring_row, lo, hi, gid0, C, cn, cs):
    r"""Advance NALSM astrocytes ``lo <= i < hi`` by one step (see the module docstring).

    Parameters
    ----------
    a_ : float[n]
        ``A`` (dimensionless) of the population; updated in place, in its own precision.
    ring_row : float[N_total]
        Input arriving in this step at ``g`` (plane 0); read and cleared.
    lo, hi, gid0 : int
        Local index range, global id of the population's first astrocyte.
    C : float64[:]
        Coefficients ``tau, bias, h``: coefficient ``k`` of astrocyte ``i`` at
        ``C[k * cn + i * cs]`` (``cn=1, cs=0``: shared; ``cn=n, cs=1``: per astrocyte).
    """
    f = a_.dtype.type
    for i in range(lo, hi):
        g = gid0 + i
        x = f(ring_row[g])
        ring_row[g] = 0.0
        tau = f(C[i * cs])
        b = f(C[cn + i * cs])
        h = f(C[2 * cn + i * cs])
        a = a_[i]
        a_[i] = a + ((x + b * h) - a * h) / tau
    return 0


@njit(**JIT_INLINE)
def lr_rhs(ip3, ca, hh, C, cn, k):
    r"""Right-hand side of NEST ``astrocyte_lr_1994`` for astrocyte ``k``; ``(dIP3, dCa, dh)``.

    With :math:`c = \min(\max(Ca, 0), Ca_{tot})` and :math:`r = ` ``ratio_ER_cyt``:

    .. math::
        \frac{dIP3}{dt} &= \frac{IP3_0 - IP3}{\tau_{IP3}}, \qquad
        \frac{dCa}{dt} = J_{chan} - J_{pump} + J_{leak}, \\
        \frac{dh}{dt} &= k_{IP3R} K_{d,inh} \frac{IP3 + K_{d,IP3,1}}{IP3 + K_{d,IP3,2}}(1 - h)
            - k_{IP3R}\, c\, h, \\
        J_{chan} &= r\,\mathrm{rate}_{IP3R}\, m^3 n^3 h^3 (Ca_{ER} - c), \quad
        m = \frac{IP3}{IP3 + K_{d,IP3,1}}, \quad n = \frac{c}{c + K_{d,act}}, \\
        J_{pump} &= \mathrm{rate}_{SERCA} \frac{c^2}{K_{m,SERCA}^2 + c^2}, \quad
        J_{leak} = r\,\mathrm{rate}_L (Ca_{ER} - c), \quad Ca_{ER} = \frac{Ca_{tot} - c}{r}

    (units: µM, ms). ``C[j * cn + k]`` is coefficient ``j`` of :data:`LR_COEFFS`.
    """
    ca_tot = C[k]
    c = min(max(ca, 0.0), ca_tot)
    kd1 = C[2 * cn + k]
    r = C[14 * cn + k]
    ca_er = (ca_tot - c) / r
    m = ip3 / (ip3 + kd1)
    n = c / (c + C[4 * cn + k])
    km = C[6 * cn + k]
    j_pump = C[13 * cn + k] * c * c / (km * km + c * c)
    j_leak = r * C[12 * cn + k] * (ca_er - c)
    mnh = m * n * hh
    j_chan = r * C[11 * cn + k] * mnh * mnh * mnh * (ca_er - c)
    k_ip3r = C[10 * cn + k]
    alpha = k_ip3r * C[5 * cn + k] * (ip3 + kd1) / (ip3 + C[3 * cn + k])
    d_ip3 = (C[cn + k] - ip3) / C[15 * cn + k]
    d_ca = j_chan - j_pump + j_leak
    d_h = alpha * (1.0 - hh) - k_ip3r * c * hh
    return d_ip3, d_ca, d_h


@njit(**JIT_BORROW)
def astrocyte_lr_dense(ip3_, ca_, h_, sic_, ring_row, lo, hi, gid0, C, cn, cs):
    r"""Advance Li-Rinzel astrocytes ``lo <= i < hi`` by one step of ``h`` ms (NEST order).

    1. classic RK4 of :func:`lr_rhs` over ``h`` (NEST takes one RKF45 step per ``dt``; RK4
       agrees with it to ~1e-14 of each trace's maximum at ``dt = 0.1`` ms);
    2. ``Ca`` clipped to ``[0, Ca_tot]``;
    3. ``IP3 += delta_IP3 * J``, ``J`` the summed weights arriving in this step (read and
       cleared from ``ring_row[g]``);
    4. ``SIC = SIC_scale * ln(x)`` if ``x = 1000 (Ca - SIC_th) > 1`` (Ca in nM above
       threshold), else 0.

    ``ip3_, ca_, h_, sic_``: the population's state (updated in place, computed in float64);
    ``C``: coefficients in :data:`LR_COEFFS` order, laid out as in :func:`astrocyte_dense`.
    """
    for i in range(lo, hi):
        g = gid0 + i
        x = float(ring_row[g])
        ring_row[g] = 0.0
        k = i * cs
        dt = C[16 * cn + k]
        y0 = float(ip3_[i])
        y1 = float(ca_[i])
        y2 = float(h_[i])
        a0, a1, a2 = lr_rhs(y0, y1, y2, C, cn, k)
        b0, b1, b2 = lr_rhs(y0 + 0.5 * dt * a0, y1 + 0.5 * dt * a1, y2 + 0.5 * dt * a2, C, cn, k)
        c0, c1, c2 = lr_rhs(y0 + 0.5 * dt * b0, y1 + 0.5 * dt * b1, y2 + 0.5 * dt * b2, C, cn, k)
        d0, d1, d2 = lr_rhs(y0 + dt * c0, y1 + dt * c1, y2 + dt * c2, C, cn, k)
        y0 = y0 + dt / 6.0 * (a0 + 2.0 * b0 + 2.0 * c0 + d0)
        y1 = y1 + dt / 6.0 * (a1 + 2.0 * b1 + 2.0 * c1 + d1)
        y2 = y2 + dt / 6.0 * (a2 + 2.0 * b2 + 2.0 * c2 + d2)
        y1 = min(max(y1, 0.0), C[k])
        y0 += C[9 * cn + k] * x
        over = (y1 - C[8 * cn + k]) * 1000.0
        sic = C[7 * cn + k] * math.log(over) if over > 1.0 else 0.0
        ip3_[i] = y0
        ca_[i] = y1
        h_[i] = y2
        sic_[i] = sic
    return 0


@njit(**JIT_INLINE)
def astrocyte_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of astrocytes ``lo <= i < hi`` of an Astrocyte population."""
    if het.shape[0] == 0:
        astrocyte_dense(state.fstate[foff : foff + n], ring_row, lo, hi, gid0, coeffs, 1, 0)
    else:
        astrocyte_dense(state.fstate[foff : foff + n], ring_row, lo, hi, gid0, het, n, 1)
    return n_out


@njit(**JIT_INLINE)
def astrocyte_lr_update(
    lo, hi, n, gid0, foff, ioff, doff, coeffs, het, key, state, ring_row, step, spikes, n_out,
):  # fmt: skip
    """Clock-driven step of astrocytes ``lo <= i < hi`` of an AstrocyteLR population."""
    fs = state.fstate
    ip3 = fs[foff : foff + n]
    ca = fs[foff + n : foff + 2 * n]
    hh = fs[foff + 2 * n : foff + 3 * n]
    sic = fs[foff + 3 * n : foff + 4 * n]
    if het.shape[0] == 0:
        astrocyte_lr_dense(ip3, ca, hh, sic, ring_row, lo, hi, gid0, coeffs, 1, 0)
    else:
        astrocyte_lr_dense(ip3, ca, hh, sic, ring_row, lo, hi, gid0, het, n, 1)
    return n_out
