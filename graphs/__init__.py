"""Builders that bind the deployments into Serve applications."""
