"""Speed and cost benchmarks of the control plane (``python -m bench.run``, ``make bench``).

Each benchmark module exposes ``run(ctx) -> Section``; :mod:`bench.run` runs the selected ones and
:mod:`bench.report` writes ``docs/BENCHMARKS.md``, the plots and a JSON file of the raw results.
"""
