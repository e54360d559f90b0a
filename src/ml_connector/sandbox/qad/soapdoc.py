"""The SOAP side of the sandbox's QXtend service: reading a QDoc request, writing answers, the WSDL.

Written apart from the client's codec (`ml_connector.qad.qxtend`), so that a shared mistake in
reading QXtend cannot hide itself. Requests are read by local element names, as QXtend tolerates
any prefix; the parser refuses DTDs, entities and network access.

Answers follow QXtend's documented shape ([DOC] D1 .31.10, .31.38; [CODE] S6): a
`<qdoc:{name}Response>` with `<result>` (`success | warning | error`), `<dsExceptions>` of
`temp_err_msg` rows, then an echo of the document when `suppressResponseDetail` is false.
Envelope problems (not XML, no body, an unknown QDoc, refused credentials) are SOAP faults with
HTTP 500, as SOAP 1.1 servers answer them. The fault texts are ours, marked [INF].
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
QDOC = "urn:schemas-qad-com:xml-services"
QCOM = "urn:schemas-qad-com:xml-services:common"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"

Severity = Literal["error", "warning", "information"]


class BadEnvelope(ValueError):
    """The request is not a SOAP envelope carrying one QDoc: answered with a Client fault."""


@dataclass(frozen=True)
class Message:
    """One `temp_err_msg` row of an answer."""

    description: str
    severity: Severity = "error"
    number: str = ""
    field: str = ""
    context: str = ""


@dataclass
class QdocRequest:
    """One posted QDoc: its name, session context (`domain`, `username`, …) and document."""

    name: str
    context: dict[str, str]
    document: etree._Element | None
    suppress_detail: bool = True
    receiver: str = ""

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.context.get(name, "").strip().lower()
        if not value:
            return default
        return value in ("true", "yes", "1")


@dataclass
class QdocReply:
    """What a handler answers: the result, its messages and an optional echo element."""

    result: Literal["success", "warning", "error"]
    messages: list[Message] = field(default_factory=list)
    echo: etree._Element | None = None


def local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def elements(parent: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    """Child elements (comments skipped), optionally only those named `name`."""
    return (c for c in parent if isinstance(c.tag, str) and (name is None or local(c) == name))


def first(parent: etree._Element, name: str) -> etree._Element | None:
    return next(elements(parent, name), None)


def value(parent: etree._Element, name: str) -> str | None:
    """Stripped text of the child `name`; None when the element is absent."""
    found = first(parent, name)
    return None if found is None else (found.text or "").strip()


def parse_request(raw: bytes) -> QdocRequest:
    try:
        root = etree.fromstring(
            raw,
            parser=etree.XMLParser(
                resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
            ),
        )
    except etree.XMLSyntaxError as exc:
        raise BadEnvelope(f"The request is not well-formed XML: {exc.msg}") from None
    if local(root) != "Envelope" or etree.QName(root).namespace != SOAP_ENV:
        raise BadEnvelope("The request is not a SOAP 1.1 envelope")
    body = first(root, "Body")
    qdoc = next(elements(body), None) if body is not None else None
    if qdoc is None:
        raise BadEnvelope("The SOAP body carries no QDoc")
    context: dict[str, str] = {}
    session = first(qdoc, "dsSessionContext")
    if session is not None:
        for row in elements(session, "ttContext"):
            name = value(row, "propertyName") or ""
            if name:
                context[name] = value(row, "propertyValue") or ""
    documents = [c for c in elements(qdoc) if local(c) != "dsSessionContext"]
    header = first(root, "Header")
    suppress = True
    receiver = ""
    if header is not None:
        to = (value(header, "To") or "").rsplit(":", 1)[-1]
        receiver = to
        refs = first(header, "ReferenceParameters")
        flag = value(refs, "suppressResponseDetail") if refs is not None else None
        suppress = (flag or "true").lower() != "false"
    return QdocRequest(
        name=local(qdoc),
        context=context,
        document=documents[0] if documents else None,
        suppress_detail=suppress,
        receiver=receiver,
    )


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "ns1": QDOC, "ns3": QCOM}
    )
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def answer(name: str, reply: QdocReply) -> bytes:
    """`<ns1:{name}Response>` with result, exceptions and the echo (when any)."""
    envelope, body = _envelope()
    response = etree.SubElement(body, f"{{{QDOC}}}{name}Response")
    etree.SubElement(response, f"{{{QDOC}}}result").text = reply.result
    exceptions = etree.SubElement(response, f"{{{QCOM}}}dsExceptions")
    for index, message in enumerate(reply.messages, start=1):
        row = etree.SubElement(exceptions, f"{{{QCOM}}}temp_err_msg")
        for tag, text in (
            ("tt_msg_nbr", message.number),
            ("tt_msg_desc", message.description),
            ("tt_msg_sev", message.severity),
            ("tt_msg_field", message.field),
            ("tt_msg_context", message.context),
            ("tt_msg_index", str(index)),
        ):
            etree.SubElement(row, f"{{{QCOM}}}{tag}").text = text
    if reply.echo is not None:
        response.append(reply.echo)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def fault(code: Literal["Client", "Server"], reason: str, detail: str = "") -> bytes:
    envelope, body = _envelope()
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(element, "faultstring").text = reason
    if detail:
        etree.SubElement(etree.SubElement(element, "detail"), "message").text = detail
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def echo(name: str) -> etree._Element:
    """A fresh `<ns1:{name}>` element for an answer's echo."""
    return etree.Element(f"{{{QDOC}}}{name}", nsmap={"ns1": QDOC})


def add(parent: etree._Element, name: str, text: object) -> etree._Element:
    element = etree.SubElement(parent, f"{{{QDOC}}}{name}")
    element.text = str(text)
    return element


def wsdl(address: str, operations: tuple[str, ...]) -> bytes:
    """A WSDL 1.1 document for `QdocWebService` at `address`, one operation per QDoc.

    Real QXtend publishes one generated from its receivers' schemas ([CODE] S6, S7 show `?wsdl`);
    ours names the operations the sandbox accepts with open (`xsd:anyType`) message parts.
    """
    root = etree.Element(
        f"{{{WSDL}}}definitions",
        nsmap={"wsdl": WSDL, "soap": WSDL_SOAP, "xsd": XSD, "qdoc": QDOC},
        targetNamespace=QDOC,
        name="QdocWebService",
    )
    for operation in operations:
        for suffix in ("", "Response"):
            message = etree.SubElement(root, f"{{{WSDL}}}message", name=f"{operation}{suffix}")
            etree.SubElement(message, f"{{{WSDL}}}part", name="parameters", type="xsd:anyType")
    port_type = etree.SubElement(root, f"{{{WSDL}}}portType", name="QdocPortType")
    binding = etree.SubElement(
        root, f"{{{WSDL}}}binding", name="QdocSoapBinding", type="qdoc:QdocPortType"
    )
    etree.SubElement(
        binding,
        f"{{{WSDL_SOAP}}}binding",
        style="document",
        transport="http://schemas.xmlsoap.org/soap/http",
    )
    for operation in operations:
        op = etree.SubElement(port_type, f"{{{WSDL}}}operation", name=operation)
        etree.SubElement(op, f"{{{WSDL}}}input", message=f"qdoc:{operation}")
        etree.SubElement(op, f"{{{WSDL}}}output", message=f"qdoc:{operation}Response")
        bound = etree.SubElement(binding, f"{{{WSDL}}}operation", name=operation)
        etree.SubElement(bound, f"{{{WSDL_SOAP}}}operation", soapAction="")
    service = etree.SubElement(root, f"{{{WSDL}}}service", name="QdocWebService")
    port = etree.SubElement(
        service, f"{{{WSDL}}}port", name="QdocWebService", binding="qdoc:QdocSoapBinding"
    )
    etree.SubElement(port, f"{{{WSDL_SOAP}}}address", location=address)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
