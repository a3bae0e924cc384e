"""What stops a training run, as its command reports it (an operator's problem, named).

TrainingError
└── FinetuneError   `tutor finetune` cannot start or finish (offline; no request)
"""

from __future__ import annotations


class TrainingError(Exception):
    """Base of this package's errors."""


class FinetuneError(TrainingError):
    """A fine-tune run that cannot start (no base model, a taken name, no GPU asked for) or
    finish (no example fits the sequence length); the message names the problem."""
