"""JSON Schemas of the files users write (policy, .trivyignore.yaml, secret config); data, read by hullscan.userfile."""
