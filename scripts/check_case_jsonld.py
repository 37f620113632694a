#!/usr/bin/env python3
"""Checks a bundle's case.jsonld as RDF (CASE 1.4.0 / UCO 1.4.0).

Usage: check_case_jsonld.py FILE [--expect-items N] [--expect-actions M]
(items: uco-observable:File nodes, one per exhibit)

Parses FILE with rdflib's JSON-LD parser (the @context is inline, so nothing
is fetched), then checks with SPARQL over the full CASE/UCO IRIs that:
  - there is exactly one case-investigation:Investigation;
  - every object with a uco-observable:ContentDataFacet (each File, and the
    Image of an E01's media) has an integer size
    and a uco-types:Hash with method SHA256 and a 64-hex xsd:hexBinary value;
  - every case-investigation:InvestigativeAction has a performer, an
    instrument and an xsd:dateTime start time;
  - no IRI starts with an unexpanded prefix (a term missing from @context).
Prints one summary line and exits 0, or prints the problems and exits 1
(2 if FILE cannot be read or parsed). Needs python3-rdflib.
"""

import argparse
import sys

PREFIXES = """
PREFIX case-investigation: <https://ontology.caseontology.org/case/investigation/>
PREFIX uco-action: <https://ontology.unifiedcyberontology.org/uco/action/>
PREFIX uco-core: <https://ontology.unifiedcyberontology.org/uco/core/>
PREFIX uco-observable: <https://ontology.unifiedcyberontology.org/uco/observable/>
PREFIX uco-types: <https://ontology.unifiedcyberontology.org/uco/types/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

COUNT_INVESTIGATIONS = """
SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE {
  ?i a case-investigation:Investigation .
}"""

ITEMS = """
SELECT DISTINCT ?o WHERE {
  ?o a uco-observable:File ;
     uco-core:hasFacet ?f .
  ?f a uco-observable:ContentDataFacet .
}"""

ITEMS_WITHOUT_SHA256 = """
SELECT DISTINCT ?o WHERE {
  ?o uco-core:hasFacet ?f .
  ?f a uco-observable:ContentDataFacet .
  FILTER NOT EXISTS {
    ?f uco-observable:hash ?h .
    ?h a uco-types:Hash ;
       uco-types:hashMethod ?m ;
       uco-types:hashValue ?v .
    FILTER (STR(?m) = "SHA256"
            && DATATYPE(?v) = xsd:hexBinary
            && REGEX(STR(?v), "^[0-9a-fA-F]{64}$"))
  }
}"""

ITEMS_WITHOUT_SIZE = """
SELECT DISTINCT ?o WHERE {
  ?o uco-core:hasFacet ?f .
  ?f a uco-observable:ContentDataFacet .
  FILTER NOT EXISTS {
    ?f uco-observable:sizeInBytes ?s .
    FILTER (DATATYPE(?s) = xsd:integer)
  }
}"""

COUNT_HASHES = """
SELECT (COUNT(DISTINCT ?h) AS ?n) WHERE {
  ?h a uco-types:Hash .
}"""

ACTIONS = """
SELECT DISTINCT ?a WHERE {
  ?a a case-investigation:InvestigativeAction .
}"""

# What every action needs, and the pattern that finds it.
ACTION_NEEDS = [
    ("uco-action:performer", "?a uco-action:performer ?x . FILTER (isIRI(?x))"),
    ("uco-action:instrument",
     "?a uco-action:instrument ?x . FILTER (isIRI(?x))"),
    ("xsd:dateTime uco-action:startTime",
     "?a uco-action:startTime ?x . FILTER (DATATYPE(?x) = xsd:dateTime)"),
]

ACTIONS_WITHOUT = """
SELECT DISTINCT ?a WHERE {
  ?a a case-investigation:InvestigativeAction .
  FILTER NOT EXISTS { %s }
}"""

# Prefixes of the @context: an IRI starting with one of these followed by
# ':' was not expanded.
UNEXPANDED = ("kb:", "case-", "uco-", "xsd:")


def query(graph, text):
    return list(graph.query(PREFIXES + text))


def count(graph, text):
    return int(query(graph, text)[0][0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--expect-items", type=int)
    parser.add_argument("--expect-actions", type=int)
    args = parser.parse_args()

    try:
        from rdflib import Graph, URIRef
    except ImportError:
        print("check_case_jsonld: python3-rdflib is not installed",
              file=sys.stderr)
        return 2
    graph = Graph()
    try:
        graph.parse(args.file, format="json-ld")
    except Exception as e:  # rdflib raises many types
        print(f"check_case_jsonld: {args.file} does not parse as JSON-LD: {e}",
              file=sys.stderr)
        return 2

    problems = []
    investigations = count(graph, COUNT_INVESTIGATIONS)
    if investigations != 1:
        problems.append(f"{investigations} case-investigation:Investigation "
                        "nodes, not exactly 1")
    items = [row[0] for row in query(graph, ITEMS)]
    for row in query(graph, ITEMS_WITHOUT_SHA256):
        problems.append(f"{row[0]} has no uco-types:Hash with method SHA256 "
                        "and a 64-hex xsd:hexBinary value")
    for row in query(graph, ITEMS_WITHOUT_SIZE):
        problems.append(f"{row[0]} has no xsd:integer "
                        "uco-observable:sizeInBytes")
    hashes = count(graph, COUNT_HASHES)
    actions = [row[0] for row in query(graph, ACTIONS)]
    for need, pattern in ACTION_NEEDS:
        for row in query(graph, ACTIONS_WITHOUT % pattern):
            problems.append(f"action {row[0]} has no {need}")
    unexpanded = set()
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(UNEXPANDED):
                unexpanded.add(str(term))
    for term in sorted(unexpanded):
        problems.append(f"{term} is not an absolute IRI (a prefix missing "
                        "from @context?)")
    if args.expect_items is not None and len(items) != args.expect_items:
        problems.append(f"{len(items)} items, expected {args.expect_items}")
    if args.expect_actions is not None and len(actions) != args.expect_actions:
        problems.append(f"{len(actions)} investigative actions, expected "
                        f"{args.expect_actions}")

    if problems:
        for p in problems:
            print(f"check_case_jsonld: {args.file}: {p}", file=sys.stderr)
        return 1
    print(f"check_case_jsonld: ok: {len(graph)} triples, {len(items)} items, "
          f"{hashes} hashes, {len(actions)} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
