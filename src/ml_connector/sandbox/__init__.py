"""Faithful local simulators of Cin7 Core and QAD Adaptive ERP.

Used by the demo, customer rehearsals and the contract tests.
"""

SERVER_HTTP = "h11"
"""The HTTP/1.1 implementation uvicorn serves the sandboxes with, named rather than detected.

Left to itself uvicorn takes httptools whenever it is installed, and the connector's own client
installs it (`ml_connector.http11`). A sandbox's parsing, and the CPU per call that
`bench/sync.py` compares the connector's with, should not change with what else happens to be
installed: the sandboxes keep the h11 server they have always been measured on. (With httptools
the two sandboxes spend about a quarter less CPU per purchase.)
"""

SERVER_LOOP = "asyncio"
"""The event loop uvicorn serves the sandboxes on, named for the same reason as SERVER_HTTP.

uvicorn's ``loop="auto"`` takes uvloop whenever it is installed, and the connector installs it
for its own processes (:mod:`ml_connector.eventloop`). The sandboxes are the yardstick
`bench/sync.py` measures the connector against, so they stay on asyncio's loop.
"""
