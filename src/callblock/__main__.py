from callblock.cli import main

main()
