#!/usr/bin/env node
// Validates case.jsonld files against the CASE 1.4.0 / UCO 1.4.0 SHACL shapes
// the way the CASE project's case_validate does: the data graph is the data
// and the whole ontology together, with rdf:type closed over rdfs:subClassOf;
// the shapes graph is the ontology. Also reports every predicate and class of
// the data that the ontology does not define, and every JSON-LD key or value
// that JSON-LD would silently drop.
//
// Usage: validate.js [--ontology DIR] [--verbose] FILE...
//   DIR defaults to ../../../shared/data/case-uco-1.4.0 from this folder
//   (the shared data beside the repository).
// Prints one line per finding and one summary line per file; exits 0 if
// every file has no violation, warning, info, undefined term or unchecked
// focus node, 1 if one has, 2 on a usage or read error, 77 if the ontology
// is absent (skipped).
//
// What differs from validating the merged graph as it is, and why:
//  - Focus nodes are those of the file: a shape's targets are resolved in
//    the whole data graph, then only the nodes that are a subject or an
//    object of the file's own triples (and sh:targetNode nodes) are
//    validated. The rest are the ontology's own classes, properties and
//    list cells, which the ontology's owl: shapes target (owl:Class,
//    rdf:first, ...): validating the ontology is upstream's business, and
//    took most of the time. Shapes left without a focus node are named
//    with --verbose. Constraints still see the whole graph, so the
//    SPARQL ones that join with ontology triples work as they would.
//  - sh:sparql is compiled here, not by shacl-engine: one query engine is
//    shared by all focus nodes (the engine's own builds one per focus node,
//    about 100 ms each), and a shape with several sh:sparql constraints
//    runs each of them (the engine would read only one).
//  - SPARQL constraints the query engine cannot parse (the types:Dictionary
//    shapes, which project $this beside a GROUP BY) are not run; each is
//    named on stderr, and a file with a focus node for one fails as
//    "unchecked", so nothing is passed that was not checked.

import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { QueryEngine } from '@comunica/query-sparql-rdfjs-lite'
import { BindingsFactory } from '@comunica/utils-bindings-factory'
import TermSet from '@rdfjs/term-set'
import toNT from '@rdfjs/to-ntriples'
import formats from '@rdfjs/formats'
import { PathList } from 'grapoi'
import { JsonLdParser } from 'jsonld-streaming-parser'
import rdf from 'rdf-ext'
import { Readable as StreamReadable } from 'readable-stream'
import Validator from 'shacl-engine/Validator.js'
import Context from 'shacl-engine/lib/Context.js'
import parsePath from 'shacl-engine/lib/parsePath.js'
import { bindingsToObject, stringifyPath } from 'shacl-engine/lib/sparql.js'
import { targetResolvers } from 'shacl-engine/sparql.js'

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
const SH = 'http://www.w3.org/ns/shacl#'
const OWL = 'http://www.w3.org/2002/07/owl#'
const type = rdf.namedNode(RDF + 'type')
const subClassOf = rdf.namedNode(RDFS + 'subClassOf')
const sh = name => rdf.namedNode(SH + name)

const here = path.dirname(fileURLToPath(import.meta.url))

function usage (message) {
  console.error(`case-validate: ${message}`)
  console.error('usage: validate.js [--ontology DIR] [--verbose] FILE...')
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
async function addQuads (dataset, quads) {
  const prefix = `f${++parsed}_`
  const own = t => t.termType === 'BlankNode' ? rdf.blankNode(prefix + t.value) : t
  for await (const quad of quads) {
    dataset.add(rdf.quad(own(quad.subject), quad.predicate, own(quad.object)))
  }
}

function parseTurtle (dataset, file) {
  return addQuads(dataset, formats.parsers.import('text/turtle',
    Readable.from([fs.readFileSync(file)]), { baseIRI: 'file://' + path.resolve(file) }))
}

// JSON-LD silently drops a key that is neither a keyword, an IRI nor a term
// of the context (a misspelt or unprefixed property); strictValues makes
// that, and any invalid value, a parse error instead.
function parseJsonLd (dataset, file) {
  const parser = new JsonLdParser({
    baseIRI: 'file://' + path.resolve(file),
    dataFactory: rdf,
    strictValues: true
  })
  Readable.from([fs.readFileSync(file)]).pipe(parser)
  return addQuads(dataset, parser)
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

// SPARQL-based constraints (SHACL 5.3), run by one shared query engine.
const engine = new QueryEngine()
const bindingsFactory = new BindingsFactory(rdf)
const sources = new WeakMap() // dataset -> RDF/JS source for the engine

function sourceOf (dataset) {
  let source = sources.get(dataset)
  if (!source) {
    source = {
      match: (s, p, o, g) => StreamReadable.from(dataset.match(s, p, o, g))
    }
    sources.set(dataset, source)
  }
  return source
}

async function select (query, dataset, thisTerm) {
  const bindings = thisTerm ? [[rdf.variable('this'), thisTerm]] : []
  const stream = await engine.queryBindings(query, {
    sources: [sourceOf(dataset)],
    initialBindings: bindingsFactory.bindings(bindings)
  })
  return stream.toArray()
}

function prefixDeclarations (ptr, out = []) {
  for (const imports of ptr.out([rdf.namedNode(OWL + 'imports')])) {
    prefixDeclarations(imports, out)
  }
  for (const declare of ptr.out([sh('declare')])) {
    out.push(`PREFIX ${declare.out([sh('prefix')]).value}: ` +
      `<${declare.out([sh('namespace')]).value}>`)
  }
  return out
}

const unrunnable = new TermSet() // sh:sparql constraint nodes
const unchecked = [] // { shape, focusNode } of the current file

// One result per distinct ($this, ?path, ?value) of a constraint's
// solutions: a path such as a/rdfs:subClassOf* has a solution per type of
// the node, and would repeat one finding once per type.
function compileSparql (shape) {
  const constraints = []
  for (const constraint of shape.sparql) {
    const deactivated = constraint.out([sh('deactivated')]).value
    if (deactivated === 'true' || deactivated === '1') continue
    const query = [...prefixDeclarations(constraint.out([sh('prefixes')])),
      constraint.out([sh('select')]).value]
      .filter(Boolean).join('\n')
      .split('$PATH').join(stringifyPath(shape.path))
    constraints.push({
      query,
      message: constraint.out([sh('message')]).terms,
      source: constraint.terms,
      runnable: !unrunnable.has(constraint.term)
    })
  }
  return {
    generic: async context => {
      const dataset = context.focusNode.dataset
      for (const { query, message, source, runnable } of constraints) {
        if (!runnable) {
          unchecked.push({ shape: shape.ptr.term, focusNode: context.focusNode.term })
          continue
        }
        const seen = new Set()
        for (const row of await select(query, dataset, context.focusNode.term)) {
          const key = ['this', 'path', 'value']
            .map(v => row.has(v) ? toNT(row.get(v)) : '').join(' ')
          if (seen.has(key)) continue
          seen.add(key)
          const args = bindingsToObject(row)
          const path = row.has('path') &&
            parsePath(context.focusNode.node([row.get('path')]))
          const value = context.focusNode.node([row.get('value') || context.focusNode.term])
          context.violation(sh('SPARQLConstraintComponent'),
            { args, message, path, source, value })
        }
      }
    }
  }
}

// Marks the SPARQL constraints the query engine cannot run, by running each
// once on an empty graph; returns their shapes.
async function findUnrunnable (shapes) {
  const empty = rdf.dataset()
  const shapesOf = []
  for (const q of shapes.match(null, sh('sparql'), null)) {
    const text = [...shapes.match(q.object, sh('select'), null)][0]?.object.value
    if (!text) continue
    try {
      await select(text.split('$PATH').join('<urn:x:path>'), empty,
        rdf.namedNode('urn:x:probe'))
    } catch (e) {
      unrunnable.add(q.object)
      shapesOf.push(`${q.subject.value} (${e.message})`)
    }
  }
  return shapesOf
}

// The sh: predicates of the shapes graph that are neither a constraint
// component the validator implements nor one of SHACL's other parameters:
// a constraint the engine would silently not check.
const notConstraints = new Set(['path', 'alternativePath', 'inversePath',
  'zeroOrMorePath', 'oneOrMorePath', 'zeroOrOnePath', 'targetClass',
  'targetNode', 'targetSubjectsOf', 'targetObjectsOf', 'target', 'severity',
  'message', 'deactivated', 'name', 'description', 'order', 'group',
  'defaultValue', 'select', 'prefixes', 'declare', 'prefix', 'namespace',
  'flags', 'qualifiedMinCount', 'qualifiedMaxCount',
  'qualifiedValueShapesDisjoint', 'ignoredProperties', 'resultMessage'])

function unsupportedParameters (shapes, validator) {
  const out = new Set()
  for (const q of shapes) {
    const name = q.predicate.value.startsWith(SH) && q.predicate.value.slice(SH.length)
    if (name && !notConstraints.has(name) &&
        !validator.registry.validations.has(q.predicate)) out.add('sh:' + name)
  }
  return [...out].sort()
}

// Validates only the focus nodes that belong to the file (see the top).
class FileValidator extends Validator {
  async validateFile (dataset, fileTerms) {
    const all = new PathList({ dataset, factory: this.factory })
    const context = new Context({
      factory: this.factory, focusNode: all, options: this.options, validator: this
    })
    const idle = [] // shapes with targets, none of them in the file
    let validated = 0
    let skipped = 0
    for (const shape of this.shapes.values()) {
      const shapeContext = context.create({ shape })
      const targets = await shape.resolveTargets(shapeContext)
      const named = new TermSet(shape.targetResolver.targetNode)
      const terms = targets.terms.filter(t => fileTerms.has(t) || named.has(t))
      skipped += targets.terms.length - terms.length
      validated += terms.length
      if (terms.length === 0 && targets.terms.length > 0) idle.push(shape.ptr.term)
      for (const focusNode of targets.node(terms)) {
        await shape.validate(shapeContext.create({ focusNode }))
      }
    }
    return { report: context.report, validated, skipped, idle }
  }
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

function describe (term) {
  return term.termType === 'BlankNode' ? '_:' + term.value : term.value
}

async function main () {
  const args = process.argv.slice(2)
  let ontologyDir = path.resolve(here, '../../../shared/data/case-uco-1.4.0')
  let verbose = false
  const files = []
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--ontology') {
      if (i + 1 >= args.length) usage('--ontology needs a directory')
      ontologyDir = path.resolve(args[++i])
    } else if (args[i] === '--verbose') {
      verbose = true
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

  const datasets = new Map() // file -> its triples
  for (const file of files) {
    const data = rdf.dataset()
    try {
      await parseJsonLd(data, file)
    } catch (e) {
      console.error(`case-validate: ${file}: does not parse as JSON-LD: ${e.message}`)
      process.exit(2)
    }
    datasets.set(file, data)
  }

  const ontology = rdf.dataset()
  for (const f of ttlFiles(ontologyDir)) await parseTurtle(ontology, f)
  const shapes = rdf.dataset([...ontology])
  for (const s of await findUnrunnable(shapes)) {
    console.error(`case-validate: engine limit: a SPARQL constraint of ${s} ` +
      'cannot be run; a focus node for it fails the file as unchecked')
  }
  const validator = new FileValidator(shapes, {
    factory: rdf,
    targetResolvers,
    validations: new Map([[sh('sparql'), compileSparql]])
  })

  const unsupported = unsupportedParameters(shapes, validator)
  if (unsupported.length) {
    console.error('case-validate: engine limit: the shapes use constraints the ' +
      `validator does not implement, which it would not check: ${unsupported.join(' ')}`)
    process.exit(1)
  }

  let failed = false
  for (const [file, data] of datasets) {
    const fileTerms = new TermSet()
    for (const q of data) {
      fileTerms.add(q.subject)
      fileTerms.add(q.object)
    }
    const graph = rdf.dataset([...data, ...ontology])
    closeTypes(graph, ontology)
    unchecked.length = 0
    const { report, validated, skipped, idle } =
      await validator.validateFile(graph, fileTerms)
    const counts = { Violation: 0, Warning: 0, Info: 0 }
    for (const r of report.results) {
      const severity = r.severity.value.replace(SH, '')
      counts[severity] = (counts[severity] || 0) + 1
      const message = r.message.map(m => m.value).join('; ')
      const where = r.path && r.path.length
        ? ' ' + r.path.map(p => p.predicates.map(x => x.value).join('|')).join('/')
        : ''
      const focus = r.focusNode?.term
      const value = r.value?.term && !r.value.term.equals(focus)
        ? ` value ${toNT(r.value.term)}`
        : ''
      console.log(`${file}: ${severity}: ${focus ? describe(focus) : ''}${where}${value}: ` +
        `${message || r.constraintComponent?.value}`)
    }
    for (const u of unchecked) {
      console.log(`${file}: Unchecked: ${describe(u.focusNode)}: a SPARQL constraint ` +
        `of ${describe(u.shape)} that the engine cannot run`)
    }
    const unknown = undefinedTerms(data, ontology)
    for (const t of unknown) console.log(`${file}: undefined term: ${t}`)
    console.error(`case-validate: ${file}: ${validated} focus nodes validated; ` +
      `${skipped} targets that are the ontology's own nodes, not the file's, skipped; ` +
      `${idle.length} shapes targeted only those` +
      (verbose ? `: ${idle.map(describe).join(' ')}` : ' (--verbose names them)'))
    console.log(`case-validate: ${file}: ${data.size} triples, ` +
      `${counts.Violation} violations, ${counts.Warning} warnings, ` +
      `${counts.Info} infos, ${unknown.length} undefined terms, ` +
      `${unchecked.length} unchecked`)
    if (counts.Violation || counts.Warning || counts.Info || unknown.length ||
        unchecked.length) failed = true
  }
  process.exit(failed ? 1 : 0)
}

main().catch(e => {
  console.error(`case-validate: ${e.stack || e}`)
  process.exit(2)
})
