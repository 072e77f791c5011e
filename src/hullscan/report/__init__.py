"""Report writers: each renders a `model.report.Report` (formats.py names them); json_report.py writes the
documented JSON and load.py reads it back into the model."""
