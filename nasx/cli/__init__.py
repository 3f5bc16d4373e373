"""Command-line interface: one module per verb, registered in nasx.cli.main."""
