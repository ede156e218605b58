// Runs the graphql-http server audits (GraphQL over HTTP spec) against the
// API at process.argv[2] (e.g. http://127.0.0.1:8080/graphql). Prints every
// result; exits 1 when a MUST fails. Audits this API deliberately differs
// from are listed in the README's "Production and partners" section.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
let failed = 0;
let warned = 0;
let passed = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed++;
    console.log(`ok    ${result.id} ${result.name}`);
    continue;
  }
  let detail = result.reason;
  try {
    const res = result.response;
    if (res) detail += ` (status ${res.status}, content-type ${res.headers.get('content-type')})`;
  } catch {}
  if (result.status === 'error') {
    failed++;
    console.log(`FAIL  ${result.id} ${result.name}: ${detail}`);
  } else {
    warned++;
    console.log(`warn  ${result.id} ${result.name}: ${detail}`);
  }
}
console.log(`graphql-http audits: ${passed} passed, ${failed} failed, ${warned} warnings`);
process.exit(failed > 0 ? 1 : 0);
