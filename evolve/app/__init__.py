"""The command line on top of the engine: ``cli`` (argument parsing, one-line errors),
``commands`` (inspect, report, export), ``naming`` (run folder names), ``report_html``; and
``default.toml``, the default run. Nothing in the engine imports this package."""
