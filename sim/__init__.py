"""A built-in ArduCopter-compatible vehicle speaking MAVLink 2. A vehicle, not a controller:
it never imports ``patrol``."""
