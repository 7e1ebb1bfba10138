"""The command line: the parser (every option), dispatch and the one error handler."""
