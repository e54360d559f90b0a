"""Cin7 Core simulator."""
