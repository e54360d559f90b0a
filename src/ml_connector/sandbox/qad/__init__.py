"""QAD Adaptive ERP simulator."""
