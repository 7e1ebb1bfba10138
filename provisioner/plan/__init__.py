"""Plan: observe the remote state, diff it, make the pure plan, save and load plan files."""
