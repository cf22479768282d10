"""SQL of the runtime: health ping, scheduler runs and leader leases."""
