"""Pure patrol planning: grids in, MAVLink missions (items, fence, rally) and stats out."""
