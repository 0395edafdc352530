"""Lagrange multipliers: the extrema of x²y on the circle x² + y² = 3, where ∇f is parallel to ∇g.

    python demos/lagrange_multipliers.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/lagrange_multipliers)

Writes lagrange_circle.png (tg.viz.plot_lagrange: contours, the circle, ∇f ∥ ∇g at each stationary point) and
lagrange_on_circle.png (f along the circle), and prints each point with λ and its kind.
The same job runs as `tinygrad-mvc demo --job lagrange_multipliers`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/optimisation.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["lagrange_multipliers"]))
