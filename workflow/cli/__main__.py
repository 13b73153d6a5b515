from workflow.cli.main import main

main()
