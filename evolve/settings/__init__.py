"""A run's settings: the config file's schema and checks (``sections``, ``config``), the fitness
a run names (``fitness``), and what a resume must find unchanged (``resuming``). Below the
training and the session, which read them; imports neither TensorFlow nor the command line."""
