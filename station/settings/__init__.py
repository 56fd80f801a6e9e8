"""One frozen dataclass per configuration section; `station.config` assembles them.

Each section lives in its own module so that the part of the station that owns it
documents its defaults (and why) next to the field.
"""
