#!/usr/bin/env python3
"""Independent reference for tg_stats_median_boot and tg_stats_wilson
(src/base/stats.c), written from their documented definitions: the
splitmix64 generator, resampling with replacement by index = draw mod n,
the median of each resample, and the 2.5th/97.5th percentiles of the sorted
resample medians at indices floor(0.025*(R-1)) and ceil(0.975*(R-1)).
tests/base/test_stats.c checks the C results against the values this prints:

    python3 tools/stats_oracle.py
"""
import math

M64 = (1 << 64) - 1

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)

def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])

def median_boot(x, resamples, seed):
    st = seed
    meds = []
    for _ in range(resamples):
        sample = []
        for _ in range(len(x)):
            st, r = splitmix64(st)
            sample.append(x[r % len(x)])
        meds.append(median(sample))
    meds.sort()
    lo = math.floor(0.025 * (resamples - 1))
    hi = math.ceil(0.975 * (resamples - 1))
    return median(x), meds[lo], meds[hi]

if __name__ == "__main__":
    x = [12.1, 11.8, 12.6, 13.0, 11.5, 12.2, 12.9, 12.4]
    for seed in (1, 42):
        print("boot x seed=%d R=2000: median %.17g lo %.17g hi %.17g" % ((seed,) + median_boot(x, 2000, seed)))
    y = [0.5 * i * i - 3.0 * i for i in range(1, 12)]
    print("boot y seed=7 R=500: median %.17g lo %.17g hi %.17g" % median_boot(y, 500, 7))
