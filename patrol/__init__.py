"""The running system: MAVLink link, vehicle capabilities, patrol runner, store and CLI."""
