#!/usr/bin/env node
// Parses every expression of the corpus with vega's own parser (vega-expression) and
// writes each as a canonical string, or "error" where vega rejects it. The Rust
// conformance test prints our parser's trees the same way and compares.
//   node parse-corpus.mjs ../expressions/corpus.json > ../expressions/expected.json
import fs from 'node:fs';
import { parseExpression } from 'vega-expression';

const lit = (v) => (v instanceof RegExp ? `re(${JSON.stringify(v.source)},${JSON.stringify(v.flags)})` : `lit(${JSON.stringify(v)})`);
function canon(n) {
  switch (n.type) {
    case 'Literal': return n.regex ? `re(${JSON.stringify(n.regex.pattern)},${JSON.stringify(n.regex.flags)})` : lit(n.value);
    case 'Identifier': return `id(${n.name})`;
    case 'MemberExpression':
      return `mem(${canon(n.object)},${n.computed ? canon(n.property) : `id(${n.property.name})`},${n.computed})`;
    case 'CallExpression':
      // vega's code generator rejects calls of anything but a named function.
      if (n.callee.type !== 'Identifier') throw new Error('Illegal callee type');
      return `call(${n.callee.name}${n.arguments.map((a) => ',' + canon(a)).join('')})`;
    case 'UnaryExpression': return `un(${n.operator},${canon(n.argument)})`;
    case 'BinaryExpression': return `bin(${n.operator},${canon(n.left)},${canon(n.right)})`;
    case 'LogicalExpression': return `log(${n.operator},${canon(n.left)},${canon(n.right)})`;
    case 'ConditionalExpression': return `cond(${canon(n.test)},${canon(n.consequent)},${canon(n.alternate)})`;
    case 'ArrayExpression': return `arr(${n.elements.map(canon).join(',')})`;
    case 'ObjectExpression':
      return `obj(${n.properties.map((p) => `${p.key.type === 'Identifier' ? p.key.name : String(p.key.value)}:${canon(p.value)}`).join(',')})`;
    default: throw new Error(`unexpected node ${n.type}`);
  }
}
const corpus = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = corpus.map((expr) => {
  try { return { expr, tree: canon(parseExpression(expr)) }; }
  catch (e) { return { expr, tree: 'error' }; }
});
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
