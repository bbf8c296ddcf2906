// Ground truth for the token estimate test: counts, with OpenAI's own BPE encodings, the output tokens of every
// capture whose provider reported no usage, and writes host-tests/testdata/capture_output_tokens.json.
//
// Run once when the corpus changes (needs the npm package gpt-tokenizer, which ships the encodings):
//   cd scripts && npm install --no-save gpt-tokenizer@4.0.0 && node count_capture_tokens.mjs ../../shared/captures
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cl100k = require('gpt-tokenizer/encoding/cl100k_base');
const o200k = require('gpt-tokenizer/encoding/o200k_base');

// gpt-4o, gpt-4.1, gpt-5 and o-series models use o200k_base; older chat and completion models cl100k_base.
const encodingFor = (model) => (/^(gpt-4o|gpt-4\.1|gpt-5|o\d)/.test(model || '') ? o200k : cl100k);

function outputText(body) {
  let text = '';
  for (const line of body.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]' || !data) continue;
    let chunk;
    try { chunk = JSON.parse(data); } catch { continue; }
    for (const c of chunk.choices || []) {
      if (typeof c.text === 'string') text += c.text;
      const d = c.delta || {};
      if (typeof d.content === 'string') text += d.content;
      for (const t of d.tool_calls || []) {
        text += (t.function && t.function.name) || '';
        text += (t.function && t.function.arguments) || '';
      }
    }
  }
  return text;
}

const dir = process.argv[2] || '../../shared/captures';
const counts = {};
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const x = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const e = x.expect;
  if (!e || e.status !== 200 || e.input_tokens !== null || e.output_tokens !== null || !e.streaming) continue;
  const body = x.response.body ?? Buffer.from(x.response.body_base64, 'base64').toString('utf8');
  counts[x.name] = encodingFor(e.response_model || e.request_model).encode(outputText(body)).length;
}
const out = new URL('../host-tests/testdata/capture_output_tokens.json', import.meta.url);
fs.writeFileSync(out, JSON.stringify(counts, null, 2) + '\n');
console.log(`wrote ${Object.keys(counts).length} counts to ${out.pathname}`);
