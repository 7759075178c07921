"""Array-API versions of the kernels' maths (numpy or cupy).

These are the test oracles of the numba kernels and the GPU backend: one copy
of the array code, run with ``xp = numpy`` or ``xp = cupy``. CuPy is imported
only when the GPU backend is asked for.
"""
