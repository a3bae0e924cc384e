"""Grounding: every answer checked against the curriculum passages it was given, for the
question that was asked, and repaired or marked when it does not hold (`grounding.check`)."""
