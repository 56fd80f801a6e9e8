"""Hardware and pixels: frame sources, the MoveNet adapter, crop tracking (LEDs live here too)."""
