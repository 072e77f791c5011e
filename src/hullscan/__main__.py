from hullscan.cli import main

main()
