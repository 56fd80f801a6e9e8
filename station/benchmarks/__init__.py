"""Benchmarks run by `station bench NAME`; each module has add_arguments() and run()."""
