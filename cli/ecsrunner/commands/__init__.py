"""One module per command group; each command is ``(Context) -> exit code``."""
