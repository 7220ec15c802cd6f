"""The send jobs on dramatiq with the Redis broker (issue 10)."""
