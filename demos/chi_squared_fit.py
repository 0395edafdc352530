"""A chi-squared fit: a Gaussian peak fitted to a histogram of heights, with Poisson error bars.

    python demos/chi_squared_fit.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/chi_squared_fit)

Writes chi2_fit_heights.png (the histogram, the fit and its residuals) and chi2_fit_line.png (a
weighted straight-line fit), and prints both fit reports.
The same job runs as `tinygrad-mvc demo --job chi_squared_fit`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/regression.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["chi_squared_fit"]))
