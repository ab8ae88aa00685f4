from mlhooks.cli import main

main(prog_name="mlhooks")
