"""The `tutor` command line: `main` holds the commands, one module per larger command."""
