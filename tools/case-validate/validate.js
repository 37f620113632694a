#!/usr/bin/env node
// Validates case.jsonld files against the CASE 1.4.0 / UCO 1.4.0 SHACL shapes
// the way the CASE project's case_validate does: the data graph is the data
// and the ontology together, with rdf:type closed over rdfs:subClassOf; the
// shapes graph is the ontology. Also reports every predicate and class of
// the data that the ontology does not define.
//
// Usage: validate.js [--ontology DIR] FILE...
//   DIR defaults to ../../../shared/data/case-uco-1.4.0 from this folder
//   (the shared data beside the repository).
// Prints one line per finding and one summary line per file; exits 0 if
// every file has no violation, warning, info or undefined term, 1 if one
// has, 2 on a usage or read error, 77 if the ontology is absent (skipped).
//
// Two limits of shacl-engine 1.1.2 are worked around, and said so:
//  - SPARQL constraints its SPARQL engine cannot run (the Dictionary shapes'
//    queries) are dropped, each named on stderr;
//  - a shape with two sh:sparql constraints is split into shapes of one
//    constraint each (the engine would merge them), keeping the targets
//    and severity.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import formats from '@rdfjs/formats'
import rdf from 'rdf-ext'
import Validator from 'shacl-engine/Validator.js'
import { select } from 'shacl-engine/lib/sparql.js'
import { targetResolvers, validations } from 'shacl-engine/sparql.js'
import { Readable } from 'node:stream'

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
const SH = 'http://www.w3.org/ns/shacl#'
const type = rdf.namedNode(RDF + 'type')
const subClassOf = rdf.namedNode(RDFS + 'subClassOf')
const sh = name => rdf.namedNode(SH + name)

const here = path.dirname(fileURLToPath(import.meta.url))

function usage (message) {
  console.error(`case-validate: ${message}`)
  console.error('usage: validate.js [--ontology DIR] FILE...')
  process.exit(2)
}

function ttlFiles (dir) {
  const out = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...ttlFiles(p))
    else if (entry.name.endsWith('.ttl')) out.push(p)
  }
  return out.sort()
}

// Each file's blank nodes are its own: parsers label them afresh per file
// ("b0", ...), so they are renamed apart before the files are merged.
let parsed = 0
async function parseInto (dataset, file, mediaType) {
  const input = Readable.from([fs.readFileSync(file)])
  const quads = formats.parsers.import(mediaType, input, {
    baseIRI: 'file://' + path.resolve(file)
  })
  const prefix = `f${++parsed}_`
  const own = t => t.termType === 'BlankNode' ? rdf.blankNode(prefix + t.value) : t
  for await (const quad of quads) {
    dataset.add(rdf.quad(own(quad.subject), quad.predicate, own(quad.object)))
  }
}

// Adds (s rdf:type D) for every (s rdf:type C) and D a superclass of C.
function closeTypes (dataset, ontology) {
  const supers = new Map() // class IRI -> direct superclasses
  for (const q of ontology.match(null, subClassOf, null)) {
    if (!supers.has(q.subject.value)) supers.set(q.subject.value, [])
    supers.get(q.subject.value).push(q.object)
  }
  const added = []
  for (const q of dataset.match(null, type, null)) {
    const seen = new Set([q.object.value])
    const todo = [q.object]
    while (todo.length) {
      const c = todo.pop()
      for (const d of supers.get(c.value) || []) {
        if (d.termType !== 'NamedNode' || seen.has(d.value)) continue
        seen.add(d.value)
        todo.push(d)
        added.push(rdf.quad(q.subject, type, d))
      }
    }
  }
  for (const q of added) dataset.add(q)
}

// The workarounds: drops the SPARQL constraints the engine cannot run and
// splits shapes of several sh:sparql constraints. Returns what was dropped.
async function prepareShapes (shapes) {
  const dropped = []
  const empty = rdf.dataset()
  for (const q of [...shapes.match(null, sh('sparql'), null)]) {
    const select_ = shapes.match(q.object, sh('select'), null)
    const text = [...select_][0]?.object.value
    if (!text) continue
    try {
      await select({
        bindings: [[rdf.variable('this'), rdf.namedNode('urn:x:probe')]],
        dataset: empty,
        factory: rdf,
        query: text.split('$PATH').join('<urn:x:path>')
      })
    } catch (e) {
      shapes.delete(q)
      dropped.push(q.subject.value)
    }
  }
  const kept = [sh('targetClass'), sh('targetNode'), sh('targetSubjectsOf'),
    sh('targetObjectsOf'), sh('target'), sh('severity'), sh('deactivated'),
    type]
  const bySubject = new Map()
  for (const q of shapes.match(null, sh('sparql'), null)) {
    const key = q.subject.value + ' ' + q.subject.termType
    if (!bySubject.has(key)) bySubject.set(key, [])
    bySubject.get(key).push(q)
  }
  for (const qs of bySubject.values()) {
    if (qs.length < 2) continue
    for (const q of qs.slice(1)) {
      const shape = rdf.blankNode()
      shapes.delete(q)
      shapes.add(rdf.quad(shape, sh('sparql'), q.object))
      for (const p of kept) {
        for (const t of shapes.match(q.subject, p, null)) {
          shapes.add(rdf.quad(shape, p, t.object))
        }
      }
      shapes.add(rdf.quad(shape, type, sh('NodeShape')))
    }
  }
  return dropped
}

// IRIs the data uses as predicate or class that no ontology triple has as
// subject (rdf:type itself is RDF's).
function undefinedTerms (data, ontology) {
  const defined = new Set()
  for (const q of ontology) {
    if (q.subject.termType === 'NamedNode') defined.add(q.subject.value)
  }
  const out = new Set()
  for (const q of data) {
    if (q.predicate.value !== type.value && !defined.has(q.predicate.value)) {
      out.add(q.predicate.value)
    }
    if (q.predicate.value === type.value && q.object.termType === 'NamedNode' &&
        !defined.has(q.object.value)) {
      out.add(q.object.value)
    }
  }
  return [...out].sort()
}

async function main () {
  const args = process.argv.slice(2)
  let ontologyDir = path.resolve(here, '../../../shared/data/case-uco-1.4.0')
  const files = []
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--ontology') {
      if (i + 1 >= args.length) usage('--ontology needs a directory')
      ontologyDir = path.resolve(args[++i])
    } else if (args[i].startsWith('-')) {
      usage(`unknown option ${args[i]}`)
    } else {
      files.push(args[i])
    }
  }
  if (files.length === 0) usage('no file to validate')
  if (!fs.existsSync(ontologyDir)) {
    console.log(`case-validate: skipped: no CASE/UCO ontology at ${ontologyDir}`)
    process.exit(77)
  }

  const ontology = rdf.dataset()
  for (const f of ttlFiles(ontologyDir)) await parseInto(ontology, f, 'text/turtle')
  const shapes = rdf.dataset([...ontology])
  const dropped = await prepareShapes(shapes)
  for (const s of dropped) {
    console.error(`case-validate: engine limit: a SPARQL constraint of ${s} cannot be run; not checked`)
  }
  const validator = new Validator(shapes, { factory: rdf, targetResolvers, validations })

  let failed = false
  for (const file of files) {
    const data = rdf.dataset()
    try {
      await parseInto(data, file, 'application/ld+json')
    } catch (e) {
      console.error(`case-validate: ${file}: does not parse as JSON-LD: ${e.message}`)
      process.exit(2)
    }
    const graph = rdf.dataset([...data, ...ontology])
    closeTypes(graph, ontology)
    const report = await validator.validate({ dataset: graph })
    const counts = { Violation: 0, Warning: 0, Info: 0 }
    for (const r of report.results) {
      const severity = r.severity.value.replace(SH, '')
      counts[severity] = (counts[severity] || 0) + 1
      const message = r.message.map(m => m.value).join('; ')
      console.log(`${file}: ${severity}: ${r.focusNode?.value}` +
        `${r.path && r.path.length ? ' ' + r.path.map(p => p.predicates.map(x => x.value).join('|')).join('/') : ''}` +
        `: ${message || r.constraintComponent?.value}`)
    }
    const unknown = undefinedTerms(data, ontology)
    for (const t of unknown) console.log(`${file}: undefined term: ${t}`)
    console.log(`case-validate: ${file}: ${data.size} triples, ` +
      `${counts.Violation} violations, ${counts.Warning} warnings, ` +
      `${counts.Info} infos, ${unknown.length} undefined terms`)
    if (counts.Violation || counts.Warning || counts.Info || unknown.length) failed = true
  }
  process.exit(failed ? 1 : 0)
}

main().catch(e => {
  console.error(`case-validate: ${e.stack || e}`)
  process.exit(2)
})
