"""What runs ml-connector across worker processes on PostgreSQL: the shared Cin7 pacer
(:mod:`.pacer`) and QAD's in-flight slots per tenant (:mod:`.slots`)."""
