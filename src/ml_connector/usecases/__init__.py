"""Typed operations that the CLI, the web console and job workers all call."""
