"""The command line for people: one module per command group, assembled in main."""
