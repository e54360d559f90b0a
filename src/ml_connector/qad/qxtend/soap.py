"""SOAP 1.1 envelopes for QXtend Inbound, and reading what QXtend answers.

A QDoc request is one SOAP envelope posted to `…/qxi/services/QdocWebService` (reference §1 C,
§2; [CODE] S6, S7). Its shape, per QXtend's QDoc specification ([DOC] D1 .31.10, .31.38):

    <soapenv:Envelope>
      <soapenv:Header>                      WS-Addressing: which receiver runs the QDoc
        <wsa:Action/> <wsa:To>urn:services-qad-com:RECEIVER</wsa:To> <wsa:MessageID/>
        <wsa:ReferenceParameters><qcom:suppressResponseDetail>false</…></…>
        <wsa:ReplyTo><wsa:Address>urn:services-qad-com:</wsa:Address></wsa:ReplyTo>
      </soapenv:Header>
      <soapenv:Body>
        <qdoc:maintainPurchaseOrder>        the QDoc name (a Financials QDoc: `bcinvoice`)
          <qcom:dsSessionContext>           ttContext rows: propertyQualifier/Name/Value
            domain, scopeTransaction, version, action, entity, username, password …
          </qcom:dsSessionContext>
          <qdoc:dsPurchaseOrder>…</qdoc:dsPurchaseOrder>      the document
        </qdoc:maintainPurchaseOrder>
      </soapenv:Body>
    </soapenv:Envelope>

The answer's body holds `<…Response>` with `<result>` = `success | warning | error` and
`<dsExceptions>` of `temp_err_msg` rows (`tt_msg_nbr`, `tt_msg_desc`, `tt_msg_sev`,
`tt_msg_field`, `tt_msg_context`); `warning` still means processed; envelope problems come back as
a SOAP `Fault` ([DOC] D1 .31.10; reference §5.2). The wsa header values (`urn:services-qad-com:`
prefix, an empty Action) are our reading of D1's examples, marked [INF]: a tenant that wants
other values sets the receiver in its profile.

Answers are read by local name, not by namespace prefix: QXtend versions differ in the prefixes
and namespaces they put on response elements (S6's response uses `ns1:`), and the result must not
depend on that. The parser refuses DTDs, entities and network access, since the body comes from
a remote we do not control.

Credentials travel inside the body (`dsSessionContext` username/password, [DOC] D1; reference §3
"QXtend auth"), so a request's bytes are a secret: never log them; `describe()` gives a
printable summary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree
from pydantic import SecretStr

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
QDOC = "urn:schemas-qad-com:xml-services"
QCOM = "urn:schemas-qad-com:xml-services:common"
NSMAP = {"soapenv": SOAP_ENV, "wsa": WSA, "qdoc": QDOC, "qcom": QCOM}

Result = Literal["success", "warning", "error"]
Severity = Literal["error", "warning", "information"]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class SessionContext:
    """The `dsSessionContext` of one QDoc ([DOC] D1; [CODE] S6-S8).

    `domain` scopes operational QDocs (POs, receipts); Financials QDocs (`bcinvoice`) also take
    `entity` and `action` (`Save`, [CODE] S8). `version` is the QDoc version tag (`ERP3_2`,
    `eB2_3`, reference §7.7); `receiver` names the QXtend receiver (`wsa:To`).
    `scope_transaction` asks QXtend to roll the whole QDoc back on any error ([DOC] D1).
    """

    username: str
    password: SecretStr = field(repr=False)
    domain: str
    entity: str = ""
    version: str = "ERP3_2"
    action: str = ""
    receiver: str = "QADERP"
    scope_transaction: bool = True
    suppress_response_detail: bool = False

    def properties(self) -> list[tuple[str, str]]:
        """The ttContext rows, in the order D1's examples list them; blank values left out."""
        rows = [
            ("domain", self.domain),
            ("scopeTransaction", "true" if self.scope_transaction else "false"),
            ("version", self.version),
            ("mnemonicsRaw", "false"),
            ("action", self.action),
            ("entity", self.entity),
            ("username", self.username),
            ("password", self.password.get_secret_value()),
        ]
        return [(name, value) for name, value in rows if value]


def qname(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def child(parent: etree._Element, local: str, value: object = None) -> etree._Element:
    """Append `<qdoc:local>` (text `value` when given) to `parent` and return it."""
    element = etree.SubElement(parent, qname(QDOC, local))
    if value is not None:
        element.text = value if isinstance(value, str) else str(value)
    return element


def document(name: str) -> etree._Element:
    """A fresh `<qdoc:name>` element, for the dataset a QDoc carries (`dsPurchaseOrder`, …)."""
    return etree.Element(qname(QDOC, name), nsmap={"qdoc": QDOC})


def request(qdoc: str, context: SessionContext, payload: etree._Element) -> bytes:
    """The SOAP envelope posting `payload` as QDoc `qdoc` (UTF-8 bytes with declaration).

    Values are escaped by lxml, so `&` in a remark cannot break the request (reference §7.8).
    """
    envelope = etree.Element(qname(SOAP_ENV, "Envelope"), nsmap=NSMAP)
    header = etree.SubElement(envelope, qname(SOAP_ENV, "Header"))
    etree.SubElement(header, qname(WSA, "Action"))
    etree.SubElement(header, qname(WSA, "To")).text = f"urn:services-qad-com:{context.receiver}"
    etree.SubElement(
        header, qname(WSA, "MessageID")
    ).text = f"urn:services-qad-com::{context.receiver}"
    refs = etree.SubElement(header, qname(WSA, "ReferenceParameters"))
    etree.SubElement(refs, qname(QCOM, "suppressResponseDetail")).text = (
        "true" if context.suppress_response_detail else "false"
    )
    reply = etree.SubElement(header, qname(WSA, "ReplyTo"))
    etree.SubElement(reply, qname(WSA, "Address")).text = "urn:services-qad-com:"
    body = etree.SubElement(envelope, qname(SOAP_ENV, "Body"))
    root = etree.SubElement(body, qname(QDOC, qdoc))
    session = etree.SubElement(root, qname(QCOM, "dsSessionContext"))
    for name, value in context.properties():
        row = etree.SubElement(session, qname(QCOM, "ttContext"))
        etree.SubElement(row, qname(QCOM, "propertyQualifier")).text = "QAD"
        etree.SubElement(row, qname(QCOM, "propertyName")).text = name
        etree.SubElement(row, qname(QCOM, "propertyValue")).text = value
    root.append(payload)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def describe(qdoc: str, context: SessionContext) -> str:
    """A printable line for logs and errors: never the body, which holds the password."""
    return f"QDoc {qdoc} ({context.version}) to receiver {context.receiver}"


# ---- answers ------------------------------------------------------------------------------------


class MalformedAnswer(ValueError):
    """The answer is not a SOAP envelope with a QDoc result (an HTML page, a truncated body)."""


@dataclass(frozen=True)
class QdocMessage:
    """One `temp_err_msg` row of `dsExceptions` ([DOC] D1 .31.10)."""

    description: str
    severity: Severity = "error"
    number: str = ""
    field: str = ""
    context: str = ""

    @property
    def is_openedge(self) -> bool:
        """OpenEdge's own errors carry an `OE-` number prefix ([DOC] D1)."""
        return self.number.upper().startswith("OE-")


@dataclass(frozen=True)
class SoapFault:
    """A SOAP 1.1 `Fault`: the envelope or the session was refused before any QDoc ran."""

    code: str
    reason: str
    detail: str = ""

    @property
    def client_side(self) -> bool:
        """`soapenv:Client` (our request was wrong) rather than `Server`."""
        return self.code.rpartition(":")[2].lower() == "client"


@dataclass(frozen=True)
class QdocAnswer:
    """A QDoc's response: `result`, the messages, and the response element for data echoes."""

    name: str
    result: Result
    messages: tuple[QdocMessage, ...]
    element: etree._Element = field(repr=False, compare=False)

    @property
    def errors(self) -> tuple[QdocMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "error")

    @property
    def warnings(self) -> tuple[QdocMessage, ...]:
        return tuple(m for m in self.messages if m.severity != "error")

    def first(self, *path: str) -> str:
        """Text of the first element reached by local names `path` below the response, or ""."""
        found = next(descendants(self.element, *path), None)
        return (found.text or "").strip() if found is not None else ""

    def all(self, *path: str) -> list[etree._Element]:
        return list(descendants(self.element, *path))


def local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (c for c in element if local(c) == name)


def descendants(element: etree._Element, *path: str) -> Iterator[etree._Element]:
    """Elements reached by a path of local names, at any depth for the first step."""
    if not path:
        yield element
        return
    head, rest = path[0], path[1:]
    for found in element.iter():
        if found is not element and local(found) == head:
            yield from _walk(found, rest)


def _walk(element: etree._Element, path: Sequence[str]) -> Iterator[etree._Element]:
    if not path:
        yield element
        return
    for c in children(element, path[0]):
        yield from _walk(c, path[1:])


def text_of(element: etree._Element, name: str) -> str:
    found = next(children(element, name), None)
    return (found.text or "").strip() if found is not None else ""


_SEVERITIES: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "information": "information",
    "informational": "information",
    "info": "information",
}


def parse_answer(raw: bytes) -> QdocAnswer | SoapFault:
    """Read a QdocWebService answer; raises `MalformedAnswer` when it is neither kind.

    A message with no `tt_msg_sev` counts as an error (D1: "default error"). A response without
    a `result` element is malformed, never taken for success.
    """
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedAnswer(f"not XML: {exc.msg}") from None
    if local(root) != "Envelope":
        raise MalformedAnswer(f"not a SOAP envelope (root <{local(root)}>)")
    body = next(children(root, "Body"), None)
    answer = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    if answer is None:
        raise MalformedAnswer("SOAP envelope without a body")
    if local(answer) == "Fault":
        return SoapFault(
            code=text_of(answer, "faultcode"),
            reason=text_of(answer, "faultstring"),
            detail=" ".join(
                str(t).strip()
                for d in children(answer, "detail")
                for t in d.itertext()
                if str(t).strip()
            ),
        )
    outcome = next(descendants(answer, "result"), None)
    value = (outcome.text or "").strip().lower() if outcome is not None else ""
    if value not in ("success", "warning", "error"):
        raise MalformedAnswer(f"<{local(answer)}> carries no result (got {value or 'nothing'!r})")
    messages = tuple(
        QdocMessage(
            description=text_of(row, "tt_msg_desc"),
            severity=_SEVERITIES.get(text_of(row, "tt_msg_sev").lower(), "error"),
            number=text_of(row, "tt_msg_nbr"),
            field=text_of(row, "tt_msg_field"),
            context=text_of(row, "tt_msg_context"),
        )
        for row in descendants(answer, "dsExceptions", "temp_err_msg")
    )
    result: Result = "error"
    if value in ("success", "warning"):
        result = "success" if value == "success" else "warning"
    return QdocAnswer(local(answer), result, messages, answer)
