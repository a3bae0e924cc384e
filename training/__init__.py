"""Training, a batch job beside serving: the fine-tune of the curriculum model (its data, loop
and run) and the reranker's training data. Nothing here is imported while serving."""
