"""Gradient descent, momentum and Newton's method as paths on contour maps.

    python demos/gradient_descent.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/gradient_descent)

Writes descent_bowl.png (an elongated bowl), descent_rosenbrock.png (Rosenbrock's valley) and
descent_stationary.png (pure Newton walking to a maximum and a saddle), and
prints the steps each method took.
The same job runs as `tinygrad-mvc demo --job gradient_descent`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/optimisation.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["gradient_descent"]))
