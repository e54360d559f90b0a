"""Faithful local simulators of Cin7 Core and QAD Adaptive ERP.

Used by the demo, customer rehearsals and the contract tests.
"""
