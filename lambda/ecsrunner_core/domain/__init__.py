"""Pure domain rules: no I/O, no AWS, no GitHub."""
