// A seeded random source, so a failing random schedule can be replayed (the seed is printed in the test name).

/** mulberry32: small, fast, good enough to pick delays and cases. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed for this run: RELIABILITY_SEED when set, else a fresh one. */
export function runSeed(): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}

/**
 * The fast-check seed: fixed by default so CI replays the same inputs (a red run is a bug, not bad luck);
 * RELIABILITY_SEED=n replays another run, RELIABILITY_SEED=random explores.
 */
export function fuzzSeed(): number {
  if (process.env.RELIABILITY_SEED === 'random') return Math.floor(Math.random() * 2 ** 31);
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 20_260_302;
}
