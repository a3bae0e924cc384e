"""Evaluation data and judges that stand apart from the code they measure: labelled question
sets over the demo curriculum, and how an answer to each is judged (`evaluation.answers`)."""
