"""Ray Serve shells: one plain class per graph node, each holding logic from the packages."""
