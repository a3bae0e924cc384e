"""Model-side logic with no Ray in it: backends, routing, prompts, model preparation."""
