"""The HTTP surfaces: app factory, authentication helpers and the endpoint modules."""
