"""Apply: create, change and delete what the plan says, settle duplicates, show progress."""
