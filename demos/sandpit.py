"""The course's sandpit: gradient descent from a few clicks on a 6 m × 6 m pit with three dips.

    python demos/sandpit.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/sandpit)

Writes sandpit.png (the contours, the −∇h field and the descent paths), sandpit_newton.png (pure,
modified, and walled and capped Newton from (1, 1)) and sandpit_hessian.png (the Jacobian and the
Hessian's eigen-directions at one point), and prints where each descent stopped.
The same job runs as `tinygrad-mvc demo --job sandpit`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/multivariate.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["sandpit"]))
