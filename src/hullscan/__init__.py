"""hullscan: scan container images for vulnerabilities, secrets and policy violations, layer by layer."""

__version__ = "0.1.0"
