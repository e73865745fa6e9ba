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

import zlib

import numpy as np
from scipy import stats
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / float(1 << 53)
_M3 = np.uint64(0xD6E8FEB86659FD93)  # odd multiplier for the counter / second id


def _counter(week: int, draw: int) -> np.uint64:
    """The (week, draw) counter, spread over 64 bits: 20 bits week (+1, so -1 is 0), 12 bits draw."""
    return np.uint64(((((week + 1) << 12) | draw) * 0xD6E8FEB86659FD93) & 0xFFFFFFFFFFFFFFFF)


def _counters(week: int, draws: tuple[int, ...]) -> np.ndarray:
    return np.array(
        [((((week + 1) << 12) | d) * 0xD6E8FEB86659FD93) & 0xFFFFFFFFFFFFFFFF for d in draws], dtype=np.uint64
    )


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
)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, in place on a uint64 array (wrapping arithmetic)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


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
        # the id (any 64-bit integer) and the (week, draw) counter are spread by two different odd
        # multipliers and combined, then hashed twice with the stream's key in between
        x = np.asarray(ids, dtype=np.int64).view(np.uint64) * _GOLDEN
        x ^= _counter(week, draw)
        _mix(x)
        x ^= self.key(stream)
        return _mix(x)

    def pair_uniform(self, stream: str, first, second) -> np.ndarray:
        """Uniforms addressed by pairs of integer ids, one per pair.

        For streams whose draws belong to a pair of entities rather than an entity and a week
        (a pair of firms; a manager position and its holder's number).
        """
        x = np.asarray(first, dtype=np.int64).astype(np.uint64)
        x *= _GOLDEN
        x ^= np.asarray(second, dtype=np.int64).astype(np.uint64) * _M3
        _mix(x)
        x ^= self.key(stream)
        out = (_mix(x) >> _S11).astype(np.float64)
        out *= _TO_UNIT
        return out

    def pair_normal(self, stream: str, first, second) -> np.ndarray:
        """Standard normal numbers addressed by pairs of ids."""
        return ndtri(np.clip(self.pair_uniform(stream, first, second), 1e-16, 1 - 1e-16))

    def uniform_block(self, stream: str, ids, week: int, draws) -> np.ndarray:
        """Uniforms for several draw indices at once: shape (len(draws), len(ids)).

        Row i equals `uniform(stream, ids, week, draws[i])`; one pass of hashing instead of many.
        """
        if not all(0 <= d < 4096 for d in draws):
            raise ValueError("draw index must be in [0, 4096)")
        if not (-1 <= week < (1 << 20) - 1):
            raise ValueError("week must be in [-1, 2**20 - 1)")
        x = np.asarray(ids, dtype=np.int64).view(np.uint64) * _GOLDEN
        x = x[None, :] ^ _counters(week, tuple(int(d) for d in draws))[:, None]
        _mix(x)
        x ^= self.key(stream)
        _mix(x)
        out = (x >> _S11).astype(np.float64)
        out *= _TO_UNIT
        return out

    def uniform(self, stream: str, ids, week: int, draw: int = 0) -> np.ndarray:
        """Uniform numbers in [0, 1), one per id."""
        out = (self.bits(stream, ids, week, draw) >> _S11).astype(np.float64)
        out *= _TO_UNIT
        return out

    def normal(self, stream: str, ids, week: int, draw: int = 0) -> np.ndarray:
        """Standard normal numbers, one per id (inverse-CDF transform)."""
        u = self.uniform(stream, ids, week, draw)
        return ndtri(np.clip(u, 1e-16, 1 - 1e-16))

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


def _as_array(x, shape, dtype) -> np.ndarray:
    x = np.asarray(x, dtype=dtype)
    return x if x.shape == shape else np.broadcast_to(x, shape)


def poisson_from_uniform(u: np.ndarray, lam) -> np.ndarray:
    """Inverse-CDF Poisson: the smallest k with P(X <= k) > u. Vectorised over u and lam.

    Only the entries not yet settled are carried through the loop, so the common case (most
    entries 0 or 1) costs a few array operations.
    """
    u = np.asarray(u, dtype=np.float64)
    lam = _as_array(lam, u.shape, np.float64)
    if u.size and lam.min() < 0:
        raise ValueError("Poisson mean must be >= 0")
    k = np.zeros(u.shape, dtype=np.int64)
    pmf = np.exp(-lam)
    idx = np.flatnonzero((u >= pmf) & (lam <= _SUM_LIMIT))  # entries with k >= 1, by summation
    large = np.flatnonzero(lam > _SUM_LIMIT)
    if large.size:  # exp(-lam) underflows or the sum gets long: scipy's exact inverse instead
        k.ravel()[large] = stats.poisson.ppf(u.ravel()[large], lam.ravel()[large]).astype(np.int64)
    if idx.size == 0:
        return k
    uu, ll, f = u.ravel()[idx], lam.ravel()[idx], pmf.ravel()[idx]
    cdf = f.copy()
    flat = k.ravel()
    j = 0
    while idx.size:
        j += 1
        f = f * ll / j
        cdf = cdf + f
        flat[idx] = j
        more = uu >= cdf
        if not more.all():
            idx, uu, ll, f, cdf = idx[more], uu[more], ll[more], f[more], cdf[more]
        if j >= _STEP_LIMIT and idx.size:  # the summed cdf stalls below u (u next to 1)
            flat[idx] = stats.poisson.ppf(uu, ll).astype(np.int64)
            break
    return k


def binomial_from_uniform(u: np.ndarray, n, p) -> np.ndarray:
    """Inverse-CDF binomial: the smallest k with P(X <= k) > u. Vectorised over u, n and p.

    Entries with k = 0 (u below P(X = 0)) are settled at once; only the others enter the loop,
    which carries just the entries not yet settled.
    """
    u = np.asarray(u, dtype=np.float64)
    n = _as_array(n, u.shape, np.int64)
    k = np.zeros(u.shape, dtype=np.int64)
    if u.size == 0:
        return k
    if np.ndim(p) == 0:  # one chance for all: P(X = 0) from a small table of powers
        p = min(max(float(p), 0.0), 1.0)
        if p == 0.0:
            return k
        if p == 1.0:
            return n.copy()
        pmf = ((1.0 - p) ** np.arange(int(n.max()) + 1))[n]
        ratio_all = p / (1.0 - p)
        certain = None
    else:
        p = np.clip(_as_array(p, u.shape, np.float64), 0.0, 1.0)
        certain = p >= 1.0
        pmf = np.exp(n * np.log1p(-np.minimum(p, _P_BELOW_ONE)))  # P(X = 0) (certain ones aside)
        ratio_all = None
    idx = np.flatnonzero(u >= pmf)  # entries with k >= 1 (never n = 0: P(X = 0) = 1 there)
    if certain is not None and certain.any():
        idx = idx[~certain.ravel()[idx]]
    hard = pmf.ravel()[idx] < _PMF_FLOOR  # P(X = 0) underflows (large n): scipy's exact inverse
    if hard.any():
        h = idx[hard]
        pp = p if np.ndim(p) == 0 else p.ravel()[h]
        k.ravel()[h] = stats.binom.ppf(u.ravel()[h], n.ravel()[h], pp).astype(np.int64)
        idx = idx[~hard]
    if idx.size:
        uu, nn, f = u.ravel()[idx], n.ravel()[idx], pmf.ravel()[idx]
        ratio = ratio_all if ratio_all is not None else p.ravel()[idx] / (1.0 - p.ravel()[idx])
        cdf = f.copy()
        flat = k.ravel()
        j = 0
        while idx.size:
            f = f * ((nn - j) / (j + 1)) * ratio
            j += 1
            cdf = cdf + f
            flat[idx] = j
            more = (uu >= cdf) & (j < nn)
            if not more.all():
                idx, uu, nn, f, cdf = idx[more], uu[more], nn[more], f[more], cdf[more]
                if ratio_all is None:
                    ratio = ratio[more]
            if j >= _STEP_LIMIT and idx.size:  # long tails or a stalled sum: scipy's exact inverse
                pp = p if np.ndim(p) == 0 else p.ravel()[idx]
                flat[idx] = stats.binom.ppf(uu, nn, pp).astype(np.int64)
                break
    if certain is not None and certain.any():
        k = np.where(certain, n, k)
    return k
