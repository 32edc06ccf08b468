"""The application around the engine: command line, config, progress, plots, inspection."""
