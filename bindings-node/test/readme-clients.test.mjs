// The README's Node client example, as written, against the provider-like 127.0.0.1 server: the
// SDKs find it through their own environment variables (OPENAI_BASE_URL, ANTHROPIC_BASE_URL), so
// the example's code runs unchanged (written beside this file, so that it imports the packages).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startProviderServer } from './fixtures/provider-server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

function example(section, language) {
  const readme = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');
  const part = readme.split(`## ${section}`)[1].split('\n## ')[0];
  const found = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(part);
  assert.ok(found, `no ${language} example under '${section}'`);
  return found[1];
}

test('the Node client example runs as written', async () => {
  const server = await startProviderServer();
  Object.assign(process.env, { OPENAI_BASE_URL: `${server.base}/v1`, OPENAI_API_KEY: 'test', ANTHROPIC_BASE_URL: server.base, ANTHROPIC_API_KEY: 'test' });
  const file = join(here, `.readme-example-${process.pid}.mjs`);
  try {
    server.script('/v1/chat/completions', { status: 429, headers: { 'retry-after-ms': '5' } }, 'ok');
    writeFileSync(file, `${example('Inside the clients you already use (Node)', 'js')}\nexport { openai, claude };\n`);
    const { openai, claude } = await import(file);
    const completion = await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    const message = await claude.messages.create({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual([completion.choices[0].message.content, message.content[0].text, server.hits.get('/v1/chat/completions')], ['hello', 'hello', 2]);
  } finally {
    rmSync(file, { force: true });
    for (const k of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY']) delete process.env[k];
    await server.stop();
  }
});
