"""Benchmark the ensemble engine against a per-model loop and the device's matmul peak.

Usage: python scripts/bench.py [--quick] [--end-to-end-only] [--device cpu|cuda] [--out benchmarks]
       python scripts/bench.py --search [--cases simple-100,recurrent-50,...] [--seeds 0,1]
       python scripts/bench.py --subnormals [--repeats 3]
       python scripts/bench.py --default-job [--repeats 3]
       python scripts/bench.py --oracle-lp [--repeats 3]
       python scripts/bench.py --oracle-workers [--repeats 4]
       python scripts/bench.py --solver-workers [--repeats 4]
       python scripts/bench.py --solver [--repeats 40]
       python scripts/bench.py --engine [--repeats 3] [--quick]
       python scripts/bench.py --sweep-work DIR [DIR ...]

Eleven suites, each in one module whose docstring says what it measures and why; each writes its results
under --out (benchmarks/ by default; benchmarks/README.md quotes them):

    part  flag                 module
    1, 2  (none)               throughput   the engine against a per-model loop and the matmul peak; one job end to end
    3     --search             search       whole capacity searches under two protocols: answers, work and time
    4     --subnormals         subnormals   jobs with subnormal floats kept and flushed
    5     --default-job        default_job  the default job as `make run` runs it, timed
    6, 7  --oracle-lp,         oracle       the LP oracle's hinge LPs re-solved warm and cold; its datasets
          --oracle-workers                  one and two at a time
    8, 11 --solver,            solver       each neuron's separability by scipy's linprog and by DatasetLPs;
          --solver-workers                  one dataset's neurons decided by one thread and by two
    9     --engine             engine       the engine with and without its shortcuts; the work searches waste
    10    --sweep-work         sweep_work   what runs of one sweep cost, side by side, from their results

common holds what they share (the repository's paths, a job run in a fresh process, the results' header
and files); cli is the command line.
"""
