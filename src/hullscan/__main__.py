from hullscan.cli import entry

entry()
