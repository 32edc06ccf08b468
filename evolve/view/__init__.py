"""What a person sees of a run: the progress bar and console lines (``progress``, ``monitor``),
the final summary (``summary``), the plots (``plots``, ``gene_plots``) and the history read as
tables (``inspection``, ``importance``). Observers and readers of records; no TensorFlow."""
