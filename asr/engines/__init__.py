"""Concrete engines. Each module imports its recognition library only when a model is loaded."""
