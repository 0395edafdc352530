"""f, f', f'' and f''' of f(x) = sin(x)·exp(-x²/4) by autodiff, checked against formulas and differences.

    python demos/derivatives.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/derivatives)

Writes derivatives.png (f and its derivatives) and derivative_errors.png (errors on a log scale),
and prints the largest errors.
The same job runs as `tinygrad-mvc demo --job derivatives`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/calculus.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["derivatives"]))
