"""ml-connector: Cin7 Core suppliers and purchases into QAD Adaptive ERP, exactly once."""

__version__ = "0.1.0"
