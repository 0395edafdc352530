"""Chi-squared fits: the course's heights fitted by a Gaussian, a Poisson-weighted fit, and a straight line.

    python demos/chi_squared_fit.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/chi_squared_fit)

Writes heights_fit.png (the course's heights histogram and the fitted Gaussian, over- and undershoot
coloured), heights_chi2.png (the χ² landscape over (μ, σ) with Newton's and steepest descent's paths),
chi2_fit_poisson.png (simulated counts with errors √n, the fit and its residuals) and chi2_fit_line.png
(a weighted straight line with r and r²), and prints every fit.
The same job runs as `tinygrad-mvc demo --job chi_squared_fit`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/regression.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["chi_squared_fit"]))
