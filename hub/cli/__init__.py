"""The ``ketenhub`` commands, one module per command group."""
