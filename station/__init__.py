"""Hinge station: a Raspberry Pi appliance that counts and grades hip-hinge reps."""

__version__ = "0.1.0"
