"""Practice items: made from curriculum passages, kept with their keys, graded on check."""
