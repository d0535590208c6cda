from callblock.cli import run

run()
