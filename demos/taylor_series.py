"""Taylor series by autodiff: exp, sin and cos, a series with a radius of convergence, and a 2-D quadratic model.

    python demos/taylor_series.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/taylor_series)

Writes taylor_exp.png, taylor_sin_cos.png, taylor_radius.png, taylor_2d.png and taylor_surface.png (the
2-D function as a surface with its tangent plane and quadratic model), and prints the
coefficients f^(k)(0)/k! next to the textbook's.
The same job runs as `tinygrad-mvc demo --job taylor_series`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/taylor.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["taylor_series"]))
