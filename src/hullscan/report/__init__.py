"""Report writers: the JSON report is built from a scan result; every other format renders that JSON dict."""
