"""Training Keras networks in workers: the problem, the datasets, the final report."""
