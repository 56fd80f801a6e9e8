"""Subcommands of `station`; see `station.cli`."""
