"""Random streams laid out for common random numbers: one stream per mechanism, addressed by entity.

Every random number the model uses is a pure function of

    (run seed, stream name, entity id, week, draw index)

computed by a counter-based generator: the entity id (any 64-bit integer) times an odd constant is
combined with the (week, draw) counter times another, and hashed with the stream's key by two
rounds of the SplitMix64 finaliser (the mixing of Java's SplittableRandom). Stream keys come from
`numpy.random.SeedSequence(seed)` with one spawn key per stream name. Some streams address a pair
of entities instead of an entity and a week (`pair_uniform`).

Why not one `numpy.random.Generator` per run: with a sequential generator a change to one lever
(say, more frequent meetings that end some alliances earlier) changes how many numbers are drawn,
and so shifts every later draw of every other mechanism. Here the shock that alliance 17 meets in
week 40 is the same number whatever the meeting interval, so differences between two scenarios
run with the same seed are due to the lever, not to reshuffled luck (common random numbers).

The layout (stream name -> entity addressed) is documented in docs/ODD.md, section 4 (stochasticity).
"""

from __future__ import annotations

import math
import zlib

import numba
import numpy as np
from llvmlite import binding
from numba.core import types
from numba.extending import get_cython_function_address
from scipy import stats
from scipy.special import ndtri

from sim.compiled import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_M3 = np.uint64(0xD6E8FEB86659FD93)  # odd multiplier for the counter / second id
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S12 = np.uint64(12)
_TO_UNIT = 1.0 / float(1 << 53)


# The generator itself, compiled: kernels call these on one entity at a time, and the array
# methods of Streams loop over them, so there is one implementation of every draw.


@kernel
def mix64(x):
    """SplitMix64 finaliser of one uint64 (wrapping arithmetic)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


@kernel
def bits_at(key, entity, week, draw):
    """64 random bits for (stream key, entity, week, draw): the id and the (week, draw) counter
    (20 bits week + 1, 12 bits draw) are spread by two odd multipliers, combined, and hashed twice
    with the stream's key in between."""
    counter = ((np.uint64(week + 1) << _S12) | np.uint64(draw)) * _M3
    x = mix64((np.uint64(entity) * _GOLDEN) ^ counter)
    return mix64(x ^ key)


@kernel
def uniform_at(key, entity, week, draw):
    """A uniform number in [0, 1) for (stream key, entity, week, draw)."""
    return float(bits_at(key, entity, week, draw) >> _S11) * _TO_UNIT


@kernel
def pair_uniform_at(key, first, second):
    """A uniform number in [0, 1) addressed by a pair of integer ids."""
    x = mix64((np.uint64(first) * _GOLDEN) ^ (np.uint64(second) * _M3))
    return float(mix64(x ^ key) >> _S11) * _TO_UNIT


@kernel
def _bits_array(key, ids, week, draw):
    out = np.empty(ids.shape[0], dtype=np.uint64)
    for i in range(ids.shape[0]):
        out[i] = bits_at(key, ids[i], week, draw)
    return out


@kernel
def _uniform_block(key, ids, week, draws):
    out = np.empty((draws.shape[0], ids.shape[0]))
    for d in range(draws.shape[0]):
        for i in range(ids.shape[0]):
            out[d, i] = uniform_at(key, ids[i], week, draws[d])
    return out


@kernel
def _pair_uniform_array(key, first, second):
    out = np.empty(first.shape[0])
    for i in range(first.shape[0]):
        out[i] = pair_uniform_at(key, first[i], second[i])
    return out


# scipy's own normal inverse CDF (the code behind scipy.special.ndtri), callable from kernels. It
# is bound by symbol name rather than by a ctypes pointer so that the kernels stay cacheable.
binding.add_symbol("alliance_sim_ndtri", get_cython_function_address("scipy.special.cython_special", "ndtri"))
_ndtri = types.ExternalFunction("alliance_sim_ndtri", types.float64(types.float64, types.intc))
_NORMAL_EDGE = 1e-16  # uniforms are kept within [edge, 1 - edge] before the inverse normal CDF


@kernel
def normal_at(key, entity, week, draw):
    """A standard normal number for (stream key, entity, week, draw): `Streams.normal` for one entity."""
    u = uniform_at(key, entity, week, draw)
    return _ndtri(min(max(u, _NORMAL_EDGE), 1.0 - _NORMAL_EDGE), 0)


def _flat_ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).ravel())


# stream -> what the entity id is, and the draws (`week` is the simulated week unless said otherwise)
STREAMS = (
    # formation: entity k = the week's k-th new alliance (draws 0-5: initiator, kind, top-down,
    # size, number of partners, term; 16+seat: partner choice); entity -1: ongoing mode's weekly
    # count of new alliances
    "formation",
    "pairs",  # entity: a pair of firms (lower id, higher id); perceived complementarity
    # firms: entity = firm id, week -1; draws 0-3 culture, 10 risk tolerance, 11 opportunism
    # propensity, 12 opportunistic by design, 13 alliance function type
    "firms",
    # managers: entity = manager position, week = week the holder is seated (-1 at the start);
    # draws 0-3 skill, emotional intelligence, proactiveness, influence
    "managers",
    "trust_init",  # entity: alliance id x 8 + partner slot, week of formation; initial trust
    "friction",  # entity: alliance id; draw 0 new hidden issues, 1 eruptions
    # resolution: entity alliance id; draw 0 resolution (all channels), 1 surfacing
    "resolution",
    "contribution",  # entity: alliance id x 8 + partner slot; opportunism
    "reviews",  # entity: alliance id x 8 + partner slot; draws 0 detection, 1 acting, 2 restructure
    # shocks: entity alliance id (and -1 for market-wide shocks); draws 0 occurrence, 1 severity,
    # 2 conflicts raised
    "shocks",
    "turnover",  # pair (manager position, the holder's number); length of stay
    # potential: entity alliance id, week of formation; draws 0 value potential, 1 the share of
    # complementarity a top-down alliance keeps, 2 rapport (the ceiling of the partners' trust)
    "potential",
)


def seed_entropy(rng) -> int:
    """A reproducible integer seed from what a Mesa model accepts as `rng`.

    int -> itself; SeedSequence -> its entropy (a spawned child: 63 bits of its own state);
    Generator -> 63 bits drawn from it; None -> fresh
    entropy from the operating system. The returned seed is what provenance records.
    """
    if rng is None:
        return int(np.random.SeedSequence().entropy % (1 << 63))
    if isinstance(rng, (bool,)):
        raise TypeError("rng must be an int, a SeedSequence, a numpy Generator or None")
    if isinstance(rng, (int, np.integer)):
        if int(rng) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {int(rng)}")
        return int(rng)
    if isinstance(rng, np.random.SeedSequence):
        if rng.spawn_key:  # a child of another sequence: its own state, not the parent's entropy
            return int(rng.generate_state(1, np.uint64)[0] >> np.uint64(1))
        entropy = rng.entropy
        if isinstance(entropy, (int, np.integer)):
            return int(entropy)
        return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 1 << 63))
    raise TypeError(
        f"rng must be an int, a SeedSequence, a numpy Generator or None, got {type(rng).__name__}"
    )


class Streams:
    """The random streams of one run, keyed by the run seed.

    Each method takes the stream name, the entity ids (an int array), the week and a draw index
    (to take several independent numbers for the same entity and week) and returns one number
    per entity. Pure: calling twice with the same arguments gives the same numbers.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._keys: dict[str, np.uint64] = {}
        for name in STREAMS:
            spawn = zlib.crc32(name.encode())
            state = np.random.SeedSequence(self.seed, spawn_key=(spawn,)).generate_state(1, np.uint64)
            self._keys[name] = np.uint64(state[0])

    def key(self, stream: str) -> np.uint64:
        try:
            return self._keys[stream]
        except KeyError:
            raise KeyError(f"unknown random stream '{stream}'; streams: {', '.join(STREAMS)}") from None

    def bits(self, stream: str, ids, week: int, draw: int = 0) -> np.ndarray:
        """64 random bits per id."""
        if not (0 <= draw < 4096):
            raise ValueError("draw index must be in [0, 4096)")
        if not (-1 <= week < (1 << 20) - 1):
            raise ValueError("week must be in [-1, 2**20 - 1)")
        shape = np.shape(ids)
        return _bits_array(key=self.key(stream), ids=_flat_ids(ids), week=week, draw=draw).reshape(shape)

    def pair_uniform(self, stream: str, first, second) -> np.ndarray:
        """Uniforms addressed by pairs of integer ids, one per pair.

        For streams whose draws belong to a pair of entities rather than an entity and a week
        (a pair of firms; a manager position and its holder's number).
        """
        first, second = np.broadcast_arrays(
            np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
        )
        out = _pair_uniform_array(key=self.key(stream), first=_flat_ids(first), second=_flat_ids(second))
        return out.reshape(first.shape)

    def pair_normal(self, stream: str, first, second) -> np.ndarray:
        """Standard normal numbers addressed by pairs of ids."""
        return ndtri(np.clip(self.pair_uniform(stream, first, second), _NORMAL_EDGE, 1 - _NORMAL_EDGE))

    def uniform_block(self, stream: str, ids, week: int, draws) -> np.ndarray:
        """Uniforms for several draw indices at once: shape (len(draws), len(ids)).

        Row i equals `uniform(stream, ids, week, draws[i])`; one pass of hashing instead of many.
        """
        if not all(0 <= d < 4096 for d in draws):
            raise ValueError("draw index must be in [0, 4096)")
        if not (-1 <= week < (1 << 20) - 1):
            raise ValueError("week must be in [-1, 2**20 - 1)")
        draws = np.array([int(d) for d in draws], dtype=np.int64)
        return _uniform_block(key=self.key(stream), ids=_flat_ids(ids), week=week, draws=draws)

    def uniform(self, stream: str, ids, week: int, draw: int = 0) -> np.ndarray:
        """Uniform numbers in [0, 1), one per id."""
        if not (0 <= draw < 4096):
            raise ValueError("draw index must be in [0, 4096)")
        if not (-1 <= week < (1 << 20) - 1):
            raise ValueError("week must be in [-1, 2**20 - 1)")
        shape = np.shape(ids)
        block = _uniform_block(key=self.key(stream), ids=_flat_ids(ids), week=week, draws=np.array([draw]))
        return block[0].reshape(shape)

    def normal(self, stream: str, ids, week: int, draw: int = 0) -> np.ndarray:
        """Standard normal numbers, one per id (inverse-CDF transform)."""
        u = self.uniform(stream, ids, week, draw)
        return ndtri(np.clip(u, _NORMAL_EDGE, 1 - _NORMAL_EDGE))

    def bernoulli(self, stream: str, ids, week: int, p, draw: int = 0) -> np.ndarray:
        """True with probability p (scalar or one per id)."""
        return self.uniform(stream, ids, week, draw) < p

    def poisson(self, stream: str, ids, week: int, lam, draw: int = 0) -> np.ndarray:
        """Poisson counts with mean lam (scalar or one per id)."""
        return poisson_from_uniform(self.uniform(stream, ids, week, draw), lam)

    def binomial(self, stream: str, ids, week: int, n, p, draw: int = 0) -> np.ndarray:
        """Binomial counts: successes out of n trials of probability p."""
        return binomial_from_uniform(self.uniform(stream, ids, week, draw), n, p)


_SUM_LIMIT = 50.0  # Poisson means above this go to scipy (exp(-mean) and long sums are unsafe)
_STEP_LIMIT = 200  # summation steps before handing what is left to scipy
_P_BELOW_ONE = 1.0 - 2.0**-52
_PMF_FLOOR = 1e-280  # P(X = 0) below this is too close to underflow for summation


@kernel
def _scipy_poisson_ppf(u, lam):
    with numba.objmode(k="int64"):
        k = int(stats.poisson.ppf(u, lam))
    return k


@kernel
def _scipy_binomial_ppf(u, n, p):
    with numba.objmode(k="int64"):
        k = int(stats.binom.ppf(u, n, p))
    return k


@kernel
def poisson_at(u, lam):
    """Inverse-CDF Poisson: the smallest k with P(X <= k) > u, for a mean lam >= 0.

    Sums the probabilities upward from P(X = 0) = exp(-lam), which settles the common case
    (k of 0 or 1) in a step or two; a mean above 50 (where exp(-lam) and the sum get unsafe) or a
    sum that stalls below u (u next to 1) is handed to scipy's exact inverse.
    """
    if not lam > 0.0 or u != u:  # a mean of 0 (or nan, or below 0 in kernels): nothing happens
        return 0
    if lam > _SUM_LIMIT:
        return _scipy_poisson_ppf(u, lam)
    f = math.exp(-lam)
    if u < f:
        return 0
    cdf = f
    j = 0
    while True:
        j += 1
        f = f * lam / j
        cdf = cdf + f
        if u < cdf:
            return j
        if j >= _STEP_LIMIT:
            return _scipy_poisson_ppf(u, lam)


@kernel
def binomial_at(u, n, p):
    """Inverse-CDF binomial: the smallest k with P(X <= k) > u, for n trials of chance p.

    p is clipped to [0, 1]. Sums upward from P(X = 0) = (1 - p)^n; where that underflows (large n),
    the sum runs long, or it stalls below u by rounding (u next to 1), scipy's exact inverse
    takes over.
    """
    if n <= 0 or not p > 0.0 or u != u:  # no trials, no chance (or a nan chance): no successes
        return 0
    if p >= 1.0:
        return n
    f = math.exp(n * math.log1p(-min(p, _P_BELOW_ONE)))
    if u < f:
        return 0
    if f < _PMF_FLOOR:
        return _scipy_binomial_ppf(u, n, p)
    ratio = p / (1.0 - p)
    cdf = f
    j = 0
    while True:
        f = f * ((n - j) / (j + 1)) * ratio
        j += 1
        cdf = cdf + f
        if u < cdf:
            return j
        if j >= n or j >= _STEP_LIMIT:  # the summed cdf stalls below u (u next to 1)
            return _scipy_binomial_ppf(u, n, p)


@kernel
def _poisson_array(u, lam):
    out = np.empty(u.shape[0], dtype=np.int64)
    for i in range(u.shape[0]):
        out[i] = poisson_at(u[i], lam[i])
    return out


@kernel
def _binomial_array(u, n, p):
    out = np.empty(u.shape[0], dtype=np.int64)
    for i in range(u.shape[0]):
        out[i] = binomial_at(u[i], n[i], p[i])
    return out


def _flat(x, shape, dtype) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), shape).ravel())


def poisson_from_uniform(u: np.ndarray, lam) -> np.ndarray:
    """Inverse-CDF Poisson over arrays (see `poisson_at`): u and lam broadcast together."""
    u = np.asarray(u, dtype=np.float64)
    shape = np.broadcast_shapes(u.shape, np.shape(lam))
    lam = _flat(lam, shape, np.float64)
    if lam.size and lam.min() < 0:
        raise ValueError("Poisson mean must be >= 0")
    return _poisson_array(u=_flat(u, shape, np.float64), lam=lam).reshape(shape)


def binomial_from_uniform(u: np.ndarray, n, p) -> np.ndarray:
    """Inverse-CDF binomial over arrays (see `binomial_at`): u, n and p broadcast together."""
    u = np.asarray(u, dtype=np.float64)
    shape = np.broadcast_shapes(u.shape, np.shape(n), np.shape(p))
    out = _binomial_array(
        u=_flat(u, shape, np.float64), n=_flat(n, shape, np.int64), p=_flat(p, shape, np.float64)
    )
    return out.reshape(shape)
