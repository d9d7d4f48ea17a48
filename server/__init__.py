"""Server side: torch trainer, jobs, classroom, HTTP endpoints and the command line."""
