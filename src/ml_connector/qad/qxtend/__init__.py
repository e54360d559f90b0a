"""QXtend Inbound: QDocs over SOAP to `{base}/qxi/services/QdocWebService`.

`soap` builds envelopes and reads answers, `qdocs` builds the three documents ml-connector posts.
See docs/qad-qxtend.md for the wire contract and which parts are observed or inferred.
"""

from ml_connector.qad.qxtend.qdocs import (
    InvoiceOptions,
    PoOptions,
    ReceiptOptions,
    VatLine,
    bcinvoice,
    maintain_purchase_order,
    modify_purchase_order,
    receive_purchase_order,
)
from ml_connector.qad.qxtend.soap import (
    MalformedAnswer,
    QdocAnswer,
    QdocMessage,
    SessionContext,
    SoapFault,
    parse_answer,
    request,
)

__all__ = [
    "InvoiceOptions",
    "MalformedAnswer",
    "PoOptions",
    "QdocAnswer",
    "QdocMessage",
    "ReceiptOptions",
    "SessionContext",
    "SoapFault",
    "VatLine",
    "bcinvoice",
    "maintain_purchase_order",
    "modify_purchase_order",
    "parse_answer",
    "receive_purchase_order",
    "request",
]
