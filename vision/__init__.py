"""Detection from camera frames and telemetry (people, gatherings, masks): not built yet."""
