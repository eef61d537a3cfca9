"""Seeded GAP test problems built with the published OR-Library generator rules.

Used by tests and ``benchmarks/gap_suite.py --generate`` to check the solver on problem
types and sizes the shipped files lack (type E, D beyond 20 x 200). Nothing here is a
published instance: the values differ from Yagiura's files, only the rules are the same.

* Type D (Chu & Beasley 1997): ``a_ij = U[1, 100]``, ``c_ij = 111 - a_ij + U[-10, 10]``,
  ``b_i = 0.8 * sum_j a_ij / m``; cost falls as resource rises, so the cheap assignment
  does not fit and the capacities bind hard.
* Type E (Laguna et al. 1995): ``a_ij = 1 - 10 ln U(0, 1]``, ``c_ij = 1000 / a_ij -
  10 U[0, 1]``, ``b_i = 0.8 * sum_j a_ij / m``; resources exponentially spread, cost
  inversely proportional to them. Values are rounded to integers as in the published files.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from debtflow.core.dispatch.orlib import GapInstance


def _check_size(agents: int, jobs: int) -> None:
    if agents < 1 or jobs < 1:
        raise ValueError(f"agents and jobs must be positive, got {agents} x {jobs}")


def _capacity(resource: npt.NDArray[np.int64], agents: int) -> npt.NDArray[np.int64]:
    capacity: npt.NDArray[np.int64] = np.floor(0.8 * resource.sum(axis=1) / agents).astype(np.int64)
    return capacity


def type_d_instance(agents: int, jobs: int, *, seed: int) -> GapInstance:
    """A Chu & Beasley type-D problem (minimisation)."""
    _check_size(agents, jobs)
    rng = np.random.default_rng(seed)
    resource = rng.integers(1, 101, size=(agents, jobs), dtype=np.int64)
    cost = 111 - resource + rng.integers(-10, 11, size=(agents, jobs), dtype=np.int64)
    return GapInstance(cost=cost, resource=resource, capacity=_capacity(resource, agents))


def type_e_instance(agents: int, jobs: int, *, seed: int) -> GapInstance:
    """A Laguna et al. type-E problem (minimisation)."""
    _check_size(agents, jobs)
    rng = np.random.default_rng(seed)
    uniform = 1.0 - rng.random(size=(agents, jobs))  # in (0, 1]
    spread = 1.0 - 10.0 * np.log(uniform)
    resource = np.rint(spread).astype(np.int64)
    cost = np.rint(1000.0 / spread - 10.0 * rng.random(size=(agents, jobs))).astype(np.int64)
    return GapInstance(cost=cost, resource=resource, capacity=_capacity(resource, agents))
