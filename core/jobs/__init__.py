"""The job pipeline: admission (holds, fairness), the broker and actors, workers, the reconciler."""
