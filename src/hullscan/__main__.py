from hullscan.cli.main import entry

entry()
