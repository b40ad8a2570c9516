from ytmaker.cli import main

main()
